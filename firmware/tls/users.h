/* users.h - SMTP AUTH users of the inbound listeners, kept as salted hashes
 * (pwhash.h): `user add`, `user del`, and `user hash` in the running-config. */
#ifndef USERS_H
#define USERS_H

#include "mta_opts.h"

#include <stdbool.h>
#include "tls/pwhash.h"

#define USERS_NAME_MAX 33   /* bytes incl. NUL */

#define USERS_OK 0
#define USERS_ERR_NAME (-1)  /* empty, too long, or a character outside [A-Za-z0-9._@+-] */
#define USERS_ERR_FULL (-2)
#define USERS_ERR_NOTFOUND (-3)

void users_init(void);
/* Add or replace; the password itself is not kept. */
int users_set(const char *name, const pwhash_t *h);
int users_del(const char *name);
/* Constant work whether or not the user exists (no user enumeration by timing). */
bool users_check(const char *name, const char *pw);
/* Iteration: index of the first user after prev (-1 to start), -1 at the end. */
int users_next(int prev);
const char *users_name(int i);
const pwhash_t *users_hash(int i);

#endif
