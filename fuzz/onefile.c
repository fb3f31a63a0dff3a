/*
 * onefile.c - runs a libFuzzer harness without libFuzzer: every file named
 * on the command line is read and handed to LLVMFuzzerTestOneInput once,
 * so any compiler (gcc in the default build) can replay a corpus or a
 * crash-regression input.  A directory argument replays the files in it
 * and its subdirectories (names starting with '.' and README files skipped).
 * Exit status 0, or 1 when a file cannot be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file; the buffer is the caller's to free. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;

    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
        goto out;
    /* An exact-size copy (at least one byte) so ASan sees reads past the end. */
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    *len = (size_t)n;
out:
    fclose(fp);
    return buf;
}

static int run_file(const char *path)
{
    size_t len = 0;
    uint8_t *buf = slurp(path, &len);

    if (!buf) {
        fprintf(stderr, "onefile: cannot read '%s'\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int run_path(const char *path);

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int failed = 0;

    if (!d) {
        fprintf(stderr, "onefile: cannot open directory '%s'\n", dir);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
            continue;
        failed |= run_path(path);
    }
    closedir(d);
    return failed;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return run_dir(path);
    return run_file(path);
}

int main(int argc, char **argv)
{
    int failed = 0;

    for (int i = 1; i < argc; i++)
        failed |= run_path(argv[i]);
    return failed;
}
