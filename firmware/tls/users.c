/* SMTP AUTH users; see users.h. */
#include "tls/users.h"

#include <string.h>

typedef struct {
    bool used;
    char name[USERS_NAME_MAX];
    pwhash_t h;
} users_entry_t;

static users_entry_t users[USERS_MAX];

void users_init(void)
{
    memset(users, 0, sizeof(users));
}

static bool users_name_ok(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l >= USERS_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < l; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._@+-", c))) {
            return false;
        }
    }
    return true;
}

static int users_find(const char *name)
{
    for (int i = 0; i < USERS_MAX; i++) {
        if (users[i].used && strcmp(users[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

int users_set(const char *name, const pwhash_t *h)
{
    if (!users_name_ok(name)) {
        return USERS_ERR_NAME;
    }
    int i = users_find(name);
    for (int k = 0; i < 0 && k < USERS_MAX; k++) {
        if (!users[k].used) {
            i = k;
        }
    }
    if (i < 0) {
        return USERS_ERR_FULL;
    }
    users[i].used = true;
    strcpy(users[i].name, name);
    users[i].h = *h;
    return USERS_OK;
}

int users_del(const char *name)
{
    int i = users_find(name);
    if (i < 0) {
        return USERS_ERR_NOTFOUND;
    }
    memset(&users[i], 0, sizeof(users[i]));
    return USERS_OK;
}

bool users_check(const char *name, const char *pw)
{
    static const pwhash_t nobody; /* hashed anyway: same time for unknown users */
    int i = users_find(name);
    bool ok = pwhash_check(i >= 0 ? &users[i].h : &nobody, pw);
    return i >= 0 && ok;
}

int users_next(int prev)
{
    for (int i = prev + 1; i < USERS_MAX; i++) {
        if (users[i].used) {
            return i;
        }
    }
    return -1;
}

const char *users_name(int i)
{
    return i >= 0 && i < USERS_MAX && users[i].used ? users[i].name : "?";
}

const pwhash_t *users_hash(int i)
{
    return i >= 0 && i < USERS_MAX && users[i].used ? &users[i].h : NULL;
}
