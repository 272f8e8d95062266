/* test_cache.c - the registration cache: round trips, every kind of
 * tampering, the lock, and concurrent first logins. Runs as root (files are
 * chown'ed to other users); each test works in its own mkdtemp directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <security/pam_modules.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "aws/registration.h"
#include "trusted_tmp.h"

#define KEY "https://oidc.eu-west-1.amazonaws.com|eu-west-1|pam_ssooidc"
#define NOW ((int64_t)1700000000)
#define HOUR ((int64_t)3600)

struct fx {
    char root[64];   /* mkdtemp: 0700, root-owned */
    char dir[128];   /* root/cache: the cache_dir under test */
    char file[256];  /* dir/reg-<key>.json */
    char lock[256];  /* dir/reg-<key>.lock */
};

/* ---- helpers ---------------------------------------------------------- */

static void expected_stem(char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    assert_int_equal(EVP_Digest(KEY, strlen(KEY), md, &mdlen, EVP_sha256(), NULL), 1);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, outlen, "reg-%s", hex);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    if (!trusted_mkdtemp(f->root, sizeof(f->root), "test_cache", 0700)) {
        free(f);
        return -1;
    }
    char stem[64];
    expected_stem(stem, sizeof(stem));
    snprintf(f->dir, sizeof(f->dir), "%s/cache", f->root);
    snprintf(f->file, sizeof(f->file), "%s/%s.json", f->dir, stem);
    snprintf(f->lock, sizeof(f->lock), "%s/%s.lock", f->dir, stem);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = trusted_rmtree(f->root);
    free(f);
    return rc;
}

static void make_reg(struct client_registration *r, const char *id, int64_t expires)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->client_id, sizeof(r->client_id), "%s", id);
    snprintf(r->client_secret, sizeof(r->client_secret), "secret-of-%s-\"quoted\"\\", id);
    r->issued_at = NOW - 60;
    r->expires_at = expires;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void write_str(const char *path, const char *data)
{
    write_file(path, data, strlen(data), 0600);
}

/* Open the cache in f->dir with no wait, asserting success. */
static void open_ok(struct fx *f, struct registration_cache *c)
{
    struct sso_error err = SSO_ERROR_INIT;
    int rc = registration_open(c, f->dir, KEY, 0, &err);
    if (rc != PAM_SUCCESS)
        fail_msg("registration_open: %d %s", rc, err.msg);
}

static void store_ok(struct fx *f, const struct client_registration *r)
{
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    open_ok(f, &c);
    int rc = registration_store(&c, r, &err);
    if (rc != PAM_SUCCESS)
        fail_msg("registration_store: %d %s", rc, err.msg);
    registration_close(&c);
}

/* registration_load with a fresh cache; returns the PAM code, err and reg filled. */
static int load(struct fx *f, int64_t min_valid, struct client_registration *r,
                struct sso_error *err)
{
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    open_ok(f, &c);
    int rc = registration_load(&c, NOW, min_valid, r, err);
    registration_close(&c);
    return rc;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void assert_closed(const struct registration_cache *c)
{
    assert_int_equal(c->dir_fd, -1);
    assert_int_equal(c->lock_fd, -1);
    assert_false(c->active);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Names in dir other than . and .., sorted into one "a,b," string. */
static void list_dir(const char *dir, char *out, size_t outlen)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            strncat(out, names[i]->d_name, outlen - strlen(out) - 1);
            strncat(out, ",", outlen - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- round trips ------------------------------------------------------ */

static void test_roundtrip(void **state)
{
    struct fx *f = *state;
    struct client_registration in, out;
    struct sso_error err = SSO_ERROR_INIT;
    make_reg(&in, "client-one", NOW + 90 * 24 * HOUR);
    store_ok(f, &in);

    memset(&out, 0xAA, sizeof(out));
    assert_int_equal(load(f, HOUR, &out, &err), PAM_SUCCESS);
    assert_string_equal(out.client_id, in.client_id);
    assert_string_equal(out.client_secret, in.client_secret);
    assert_int_equal(out.issued_at, in.issued_at);
    assert_int_equal(out.expires_at, in.expires_at);

    /* A second store replaces the first. */
    make_reg(&in, "client-two", NOW + 2 * HOUR);
    store_ok(f, &in);
    assert_int_equal(load(f, HOUR, &out, &err), PAM_SUCCESS);
    assert_string_equal(out.client_id, "client-two");
}

static void test_name_and_file_mode(void **state)
{
    struct fx *f = *state;
    struct client_registration in;
    make_reg(&in, "client-one", NOW + 24 * HOUR);
    umask(022);
    store_ok(f, &in);

    struct stat st;
    assert_int_equal(lstat(f->file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(lstat(f->lock, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 077, 0);

    /* Only the registration and its lock: no temp file left behind. */
    char names[512], want[512], stem[64];
    expected_stem(stem, sizeof(stem));
    snprintf(want, sizeof(want), "%s.json,%s.lock,", stem, stem);
    list_dir(f->dir, names, sizeof(names));
    assert_string_equal(names, want);
}

static void test_missing(void **state)
{
    struct fx *f = *state;
    struct client_registration out;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(load(f, HOUR, &out, &err), PAM_NO_MODULE_DATA);
    assert_string_equal(err.msg, "no cached registration");
}

static void test_expiring(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;

    make_reg(&r, "client-one", NOW + HOUR / 2);
    store_ok(f, &r);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "expires within");
    assert_string_equal(r.client_secret, ""); /* nothing half-loaded */

    make_reg(&r, "client-one", NOW - 10); /* already expired */
    store_ok(f, &r);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "expires within 0 s");

    make_reg(&r, "client-one", NOW + HOUR); /* exactly enough */
    store_ok(f, &r);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
}

/* ---- corrupt files ---------------------------------------------------- */

#define GOOD                                                                                  \
    "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\",\"clientIdIssuedAt\":1,"   \
    "\"clientSecretExpiresAt\":1800000000}"

static void test_corrupt(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "",
        "not json",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"se", /* truncated */
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\",\"clientIdIssuedAt\":1,",
        "null",
        "[1,2,3]",
        "\"" GOOD "\"",
        GOOD " trailing",
        GOOD GOOD,
        /* wrong types */
        "{\"version\":\"1\",\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":5,\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":null,"
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":\"1\",\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1.8e9}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":true}",
        /* wrong values, missing, extra or duplicated members */
        "{\"version\":2,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":-5}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientSecret\":\"sec\",\"clientIdIssuedAt\":1,"
        "\"clientSecretExpiresAt\":1800000000,\"extra\":0}",
        "{\"version\":1,\"clientId\":\"cid\",\"clientId\":\"cid2\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"c\\u0000d\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
        "{\"version\":1,\"clientId\":\"c\xff\",\"clientSecret\":\"sec\","
        "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
    };
    struct client_registration r;
    struct sso_error err;

    /* The valid base case loads, so each failure below is the mutation's. */
    assert_int_equal(mkdir(f->dir, 0700), 0);
    write_str(f->file, GOOD);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
    assert_string_equal(r.client_secret, "sec");

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_str(f->file, bad[i]);
        memset(&err, 0, sizeof(err));
        memset(&r, 0x55, sizeof(r));
        int rc = load(f, HOUR, &r, &err);
        if (rc != PAM_NO_MODULE_DATA)
            fail_msg("case %zu (%s) gave %d", i, bad[i], rc);
        assert_string_equal(err.msg, "cached registration is corrupt; registering again");
        assert_string_equal(r.client_id, "");
        assert_string_equal(r.client_secret, "");
    }
}

static void test_field_too_long(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    char id[sizeof(r.client_id) + 1];
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    char json[2048];
    snprintf(json, sizeof(json),
             "{\"version\":1,\"clientId\":\"%s\",\"clientSecret\":\"sec\","
             "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
             id);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    write_str(f->file, json);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "corrupt");

    /* One character shorter fits exactly. */
    id[sizeof(id) - 2] = '\0';
    snprintf(json, sizeof(json),
             "{\"version\":1,\"clientId\":\"%s\",\"clientSecret\":\"sec\","
             "\"clientIdIssuedAt\":1,\"clientSecretExpiresAt\":1800000000}",
             id);
    write_str(f->file, json);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
    assert_int_equal(strlen(r.client_id), sizeof(r.client_id) - 1);
}

static void test_oversized(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    static char big[16 * 1024 + 2];
    assert_int_equal(mkdir(f->dir, 0700), 0);

    /* Valid JSON padded with whitespace to exactly 16 KiB still loads... */
    memset(big, ' ', sizeof(big));
    memcpy(big, GOOD, strlen(GOOD));
    write_file(f->file, big, 16 * 1024, 0600);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);

    /* ...one byte more is refused without being parsed. */
    write_file(f->file, big, 16 * 1024 + 1, 0600);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_string_equal(err.msg, "cached registration is corrupt; registering again");
    assert_string_equal(r.client_id, "");
}

static void test_store_refuses_oversized_and_incomplete(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    open_ok(f, &c);

    /* A secret of control characters escapes to 6 bytes each: > 16 KiB. */
    make_reg(&r, "cid", NOW + 24 * HOUR);
    memset(r.client_secret, '\x01', sizeof(r.client_secret) - 1);
    r.client_secret[sizeof(r.client_secret) - 1] = '\0';
    assert_int_equal(registration_store(&c, &r, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "too large");

    make_reg(&r, "", NOW + 24 * HOUR);
    assert_int_equal(registration_store(&c, &r, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "cannot write registration cache");

    make_reg(&r, "cid", NOW + 24 * HOUR);
    memset(r.client_id, 'x', sizeof(r.client_id)); /* no terminator */
    assert_int_equal(registration_store(&c, &r, &err), PAM_SERVICE_ERR);
    registration_close(&c);

    struct stat st;
    assert_int_equal(lstat(f->file, &st), -1);
    char names[512];
    list_dir(f->dir, names, sizeof(names));
    assert_null(strstr(names, ".tmp."));
}

/* ---- tampering with the file ------------------------------------------ */

static void test_file_mode_refused(void **state)
{
    struct fx *f = *state;
    static const mode_t modes[] = {0644, 0640, 0604, 0660, 0602};
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(mkdir(f->dir, 0700), 0);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        write_file(f->file, GOOD, strlen(GOOD), modes[i]);
        assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
        char want[32];
        snprintf(want, sizeof(want), "mode %04o", (unsigned)modes[i]);
        assert_contains(err.msg, want);
        assert_contains(err.msg, "refusing");
    }
    /* 0400 is fine: only group/other bits matter. */
    write_file(f->file, GOOD, strlen(GOOD), 0400);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
}

static void test_file_owner_refused(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(mkdir(f->dir, 0700), 0);
    write_str(f->file, GOOD);
    assert_int_equal(chown(f->file, 1, 0), 0);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "uid 1");
    assert_contains(err.msg, "refusing");

    /* registration_store replaces it with a root-owned file. */
    make_reg(&r, "fresh", NOW + 24 * HOUR);
    store_ok(f, &r);
    struct stat st;
    assert_int_equal(lstat(f->file, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
    assert_string_equal(r.client_id, "fresh");
}

static void test_file_symlink_not_followed(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    char target[256];
    snprintf(target, sizeof(target), "%s/elsewhere.json", f->root);
    write_str(target, GOOD); /* a perfectly valid registration */
    assert_int_equal(mkdir(f->dir, 0700), 0);
    assert_int_equal(symlink(target, f->file), 0);

    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "symbolic link");
    assert_string_equal(r.client_id, "");
    struct stat st;
    assert_int_equal(lstat(f->file, &st), -1); /* the link is gone */

    /* Plant it again: a store replaces the link, never writes through it. */
    assert_int_equal(symlink(target, f->file), 0);
    make_reg(&r, "fresh", NOW + 24 * HOUR);
    store_ok(f, &r);
    assert_int_equal(lstat(f->file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    char buf[512] = {0};
    int fd = open(target, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(GOOD));
    close(fd);
    assert_string_equal(buf, GOOD);
}

static void test_file_not_regular(void **state)
{
    struct fx *f = *state;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(mkdir(f->dir, 0700), 0);

    /* A FIFO must not hang the login. */
    assert_int_equal(mkfifo(f->file, 0600), 0);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "not a regular file");
    assert_int_equal(unlink(f->file), 0);

    assert_int_equal(mkdir(f->file, 0700), 0);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_contains(err.msg, "not a regular file");
}

/* ---- the directory ---------------------------------------------------- */

static void test_dir_created_0700(void **state)
{
    struct fx *f = *state;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    mode_t old = umask(0777); /* even a hostile umask yields 0700 */
    open_ok(f, &c);
    umask(old);
    registration_close(&c);
    struct stat st;
    assert_int_equal(lstat(f->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(st.st_uid, 0);
}

static void test_dir_parent_missing(void **state)
{
    struct fx *f = *state;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/no/such", f->root);
    assert_int_equal(registration_open(&c, dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, dir);
    assert_contains(err.msg, "parent");
    assert_closed(&c);
    snprintf(dir, sizeof(dir), "%s/no", f->root);
    struct stat st;
    assert_int_equal(lstat(dir, &st), -1);

    assert_int_equal(registration_open(&c, "relative/dir", KEY, 0, &err), PAM_SERVICE_ERR);
    assert_closed(&c);
}

static void test_dir_mode_refused(void **state)
{
    struct fx *f = *state;
    static const mode_t modes[] = {0755, 0777, 0710, 0701, 01777};
    assert_int_equal(mkdir(f->dir, 0700), 0);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct registration_cache c = REGISTRATION_CACHE_INIT;
        struct sso_error err = SSO_ERROR_INIT;
        assert_int_equal(chmod(f->dir, modes[i]), 0);
        assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
        char want[32];
        snprintf(want, sizeof(want), "mode %04o)", (unsigned)modes[i]);
        assert_contains(err.msg, f->dir);
        /* writable by others: the trusted-path rule; readable: the cache's own */
        assert_contains(err.msg, (modes[i] & 022) ? "writable by group or others"
                                                  : "group- or world-accessible");
        assert_contains(err.msg, want);
        assert_closed(&c);
    }
    /* Nothing was created inside the refused directory. */
    char names[256];
    list_dir(f->dir, names, sizeof(names));
    assert_string_equal(names, "");
}

static void test_dir_owner_refused(void **state)
{
    struct fx *f = *state;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(mkdir(f->dir, 0700), 0);
    assert_int_equal(chown(f->dir, 1, 0), 0);
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "uid 1");
    assert_closed(&c);
}

static void test_dir_symlink_refused(void **state)
{
    struct fx *f = *state;
    char real[256], slash[256];
    snprintf(real, sizeof(real), "%s/real", f->root);
    assert_int_equal(mkdir(real, 0700), 0); /* a perfectly good target */
    assert_int_equal(symlink(real, f->dir), 0);

    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "symbolic link");
    assert_closed(&c);

    /* A trailing slash must not make the kernel follow it. */
    snprintf(slash, sizeof(slash), "%s//", f->dir);
    assert_int_equal(registration_open(&c, slash, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "symbolic link");
    assert_closed(&c);

    char names[256];
    list_dir(real, names, sizeof(names));
    assert_string_equal(names, "");
}

static void test_dir_not_directory(void **state)
{
    struct fx *f = *state;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    write_str(f->dir, "x");
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "not a directory");
    assert_closed(&c);
}

static void test_lock_file_tampered(void **state)
{
    struct fx *f = *state;
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    char target[256];
    snprintf(target, sizeof(target), "%s/target", f->root);
    assert_int_equal(mkdir(f->dir, 0700), 0);

    assert_int_equal(symlink(target, f->lock), 0);
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "symbolic link");
    assert_closed(&c);
    struct stat st;
    assert_int_equal(lstat(target, &st), -1); /* not created through the link */
    assert_int_equal(unlink(f->lock), 0);

    write_str(f->lock, "");
    assert_int_equal(chown(f->lock, 1, 0), 0);
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_contains(err.msg, "not owned by root");
    assert_closed(&c);
}

/* ---- temp files ------------------------------------------------------- */

static void test_stale_temp_removed(void **state)
{
    struct fx *f = *state;
    char stem[64], mine[256], other[256];
    expected_stem(stem, sizeof(stem));
    assert_int_equal(mkdir(f->dir, 0700), 0);
    snprintf(mine, sizeof(mine), "%s/%s.tmp.1234.00000000deadbeef", f->dir, stem);
    snprintf(other, sizeof(other), "%s/reg-0123456789abcdef0123456789abcdef.tmp.1.2", f->dir);
    write_str(mine, "partial");
    write_str(other, "another key's write in progress");

    struct client_registration r;
    make_reg(&r, "cid", NOW + 24 * HOUR);
    store_ok(f, &r);
    struct stat st;
    assert_int_equal(lstat(mine, &st), -1);
    assert_int_equal(lstat(other, &st), 0); /* not ours to touch */
}

/* ---- closed and zeroed caches ----------------------------------------- */

static void test_closed_and_zeroed(void **state)
{
    (void)state;
    int fd0_before = fcntl(0, F_GETFD);
    struct registration_cache z;
    memset(&z, 0, sizeof(z));
    registration_close(&z); /* must not close fd 0 */
    assert_int_equal(fcntl(0, F_GETFD), fd0_before);
    assert_closed(&z);
    registration_close(&z);
    registration_close(NULL);

    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    make_reg(&r, "cid", NOW + 24 * HOUR);
    assert_int_equal(registration_load(&c, NOW, HOUR, &r, &err), PAM_NO_MODULE_DATA);
    assert_int_equal(registration_store(&c, &r, &err), PAM_SERVICE_ERR);
    memset(&z, 0, sizeof(z));
    assert_int_equal(registration_store(&z, &r, &err), PAM_SERVICE_ERR);
    registration_cache_init(&z);
    assert_closed(&z);
}

static void test_no_fd_leak(void **state)
{
    struct fx *f = *state;
    int before = count_fds();
    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    make_reg(&r, "cid", NOW + 24 * HOUR);
    store_ok(f, &r);
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(registration_open(&c, f->dir, KEY, 0, &err), PAM_SERVICE_ERR);
    assert_int_equal(count_fds(), before);

    /* The fds of an open cache do not survive exec. */
    assert_int_equal(chmod(f->dir, 0700), 0);
    open_ok(f, &c);
    assert_true(fcntl(c.dir_fd, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(c.lock_fd, F_GETFD) & FD_CLOEXEC);
    registration_close(&c);
    assert_int_equal(count_fds(), before);
}

/* ---- locking ---------------------------------------------------------- */

static void test_lock_timeout_then_success(void **state)
{
    struct fx *f = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct registration_cache c = REGISTRATION_CACHE_INIT;
        struct sso_error err;
        close(ready[0]);
        if (registration_open(&c, f->dir, KEY, 0, &err) != PAM_SUCCESS)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(2);
        sleep_ms(500);
        registration_close(&c);
        _exit(0);
    }
    close(ready[1]);
    char ch;
    assert_int_equal(read(ready[0], &ch, 1), 1); /* the child holds the lock */
    close(ready[0]);
    double t0 = mono();

    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(registration_open(&c, f->dir, KEY, 0.1, &err), PAM_AUTHINFO_UNAVAIL);
    double waited = mono() - t0;
    assert_contains(err.msg, "timed out waiting for the registration lock");
    assert_true(waited >= 0.1);
    assert_true(waited < 0.45);
    assert_closed(&c);

    assert_int_equal(registration_open(&c, f->dir, KEY, 3, &err), PAM_SUCCESS);
    double got = mono() - t0;
    assert_true(got >= 0.4); /* only after the child let go */
    assert_true(got < 2.5);
    registration_close(&c);

    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

#define RACERS 8
#define RECORD 64

/* One first login: take the lock, register only if nobody has yet. */
static int racer(struct fx *f, const char *counter, int out)
{
    struct registration_cache c = REGISTRATION_CACHE_INIT;
    struct sso_error err;
    struct client_registration r;
    if (registration_open(&c, f->dir, KEY, 10, &err) != PAM_SUCCESS)
        return 1;
    int rc = registration_load(&c, NOW, HOUR, &r, &err);
    if (rc == PAM_NO_MODULE_DATA) {
        int fd = open(counter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, "r", 1) != 1)
            return 2;
        close(fd);
        sleep_ms(50); /* RegisterClient takes a while */
        char id[32];
        snprintf(id, sizeof(id), "cid-%ld", (long)getpid());
        make_reg(&r, id, NOW + 90 * 24 * HOUR);
        if (registration_store(&c, &r, &err) != PAM_SUCCESS)
            return 3;
    } else if (rc != PAM_SUCCESS) {
        return 4;
    }
    registration_close(&c);
    char rec[RECORD] = {0};
    if (!sso_strlcpy(rec, r.client_id, sizeof(rec)))
        return 6;
    return write(out, rec, sizeof(rec)) == (ssize_t)sizeof(rec) ? 0 : 5;
}

static void test_concurrent_first_logins(void **state)
{
    struct fx *f = *state;
    char counter[256];
    snprintf(counter, sizeof(counter), "%s/registrations", f->root);
    int go[2], results[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(results), 0);
    pid_t pids[RACERS];
    for (int i = 0; i < RACERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            close(results[0]);
            char ch;
            while (read(go[0], &ch, 1) < 0 && errno == EINTR)
                ; /* start together: EOF when the parent closes go[1] */
            _exit(racer(f, counter, results[1]));
        }
    }
    close(go[0]);
    close(results[1]);
    close(go[1]);

    char first[RECORD] = {0};
    for (int i = 0; i < RACERS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        char rec[RECORD];
        assert_int_equal(read(results[0], rec, sizeof(rec)), (ssize_t)sizeof(rec));
        assert_int_equal(strncmp(rec, "cid-", 4), 0);
        if (i == 0)
            memcpy(first, rec, sizeof(rec));
        assert_string_equal(rec, first);
    }
    char rec[RECORD];
    assert_int_equal(read(results[0], rec, sizeof(rec)), 0);
    close(results[0]);

    struct stat st;
    assert_int_equal(stat(counter, &st), 0);
    assert_int_equal(st.st_size, 1); /* exactly one registration */

    struct client_registration r;
    struct sso_error err = SSO_ERROR_INIT;
    assert_int_equal(load(f, HOUR, &r, &err), PAM_SUCCESS);
    assert_string_equal(r.client_id, first);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_roundtrip),
        T(test_name_and_file_mode),
        T(test_missing),
        T(test_expiring),
        T(test_corrupt),
        T(test_field_too_long),
        T(test_oversized),
        T(test_store_refuses_oversized_and_incomplete),
        T(test_file_mode_refused),
        T(test_file_owner_refused),
        T(test_file_symlink_not_followed),
        T(test_file_not_regular),
        T(test_dir_created_0700),
        T(test_dir_parent_missing),
        T(test_dir_mode_refused),
        T(test_dir_owner_refused),
        T(test_dir_symlink_refused),
        T(test_dir_not_directory),
        T(test_lock_file_tampered),
        T(test_stale_temp_removed),
        T(test_closed_and_zeroed),
        T(test_no_fd_leak),
        T(test_lock_timeout_then_success),
        T(test_concurrent_first_logins),
    };
#undef T
    return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
