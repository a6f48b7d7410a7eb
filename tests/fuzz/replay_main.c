/* replay_main.c - runs a harness on files instead of under libFuzzer: every
 * file named, and every file in every directory named (one level), once.
 * Used by `make fuzz-replay` (the committed corpora and past crash inputs
 * as a regression test) and for the coverage report of `make fuzz`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* a copy of exactly n bytes, so ASan sees reads past the input */
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        exit(2);
    memcpy(p, buf, n);
    LLVMFuzzerTestOneInput(p, n);
    free(p);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0)
            continue;   /* an empty corpus directory may not exist */
        if (!S_ISDIR(sb.st_mode)) {
            files += run_file(argv[i]);
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
                files += run_file(path);
        }
        if (d)
            closedir(d);
    }
    printf("%u inputs\n", files);
    return 0;
}
