/* Unit tests for source.h: what one party cannot multiply at will. A setuid
 * host's real uid wins over anything the caller may set; IPv6 counts by
 * /64; every loopback address is one source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

#include "core/source.h"

static const char *of(unsigned long ruid, const char *rhost, const char *ruser)
{
    static char out[96];
    source_from(ruid, rhost, ruser, out, sizeof(out));
    return out;
}

static void test_setuid_real_uid_wins(void **state)
{
    (void)state;
    /* sudo run by uid 1001: whatever PAM_RHOST or PAM_RUSER say. */
    assert_string_equal(of(1001, "198.51.100.7", "root"), "uid:1001");
    assert_true(source_is_local("uid:1001"));
}

static void test_ipv4_and_loopback(void **state)
{
    (void)state;
    assert_string_equal(of(0, "198.51.100.7", NULL), "ip:198.51.100.7");
    assert_false(source_is_local("ip:198.51.100.7"));
    /* A local user can bind any of 127.0.0.0/8 (ssh -b): one source. */
    assert_string_equal(of(0, "127.0.0.1", NULL), "ip:loopback");
    assert_string_equal(of(0, "127.9.8.7", NULL), "ip:loopback");
    assert_string_equal(of(0, "::1", NULL), "ip:loopback");
    assert_string_equal(of(0, "::ffff:127.0.0.2", NULL), "ip:loopback");
}

/* ssh -b ADDRESS ADDRESS from a local shell: every address of this host
 * is the loopback source too. */
static void test_own_addresses_are_loopback(void **state)
{
    (void)state;
    struct ifaddrs *all = NULL;
    assert_int_equal(getifaddrs(&all), 0);
    int checked = 0;
    for (struct ifaddrs *i = all; i; i = i->ifa_next) {
        char text[INET6_ADDRSTRLEN];
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, text,
                  sizeof(text));
        assert_string_equal(of(0, text, NULL), "ip:loopback");
        checked++;
    }
    freeifaddrs(all);
    assert_true(checked >= 1); /* 127.0.0.1 at least */
}

static void test_ipv6_by_64(void **state)
{
    (void)state;
    assert_string_equal(of(0, "2001:db8:1:2:aaaa::1", NULL), "ip6:2001:db8:1:2::/64");
    assert_string_equal(of(0, "2001:db8:1:2:ffff:ffff:ffff:ffff", NULL),
                        "ip6:2001:db8:1:2::/64");
    assert_string_equal(of(0, "[2001:db8:1:3::9]", NULL), "ip6:2001:db8:1:3::/64");
    assert_string_equal(of(0, "fe80::1%eth0", NULL), "ip6:fe80::/64");
    assert_string_equal(of(0, "::ffff:198.51.100.7", NULL), "ip:198.51.100.7");
}

static void test_names_and_fallbacks(void **state)
{
    (void)state;
    assert_string_equal(of(0, "Host.Example.ORG", NULL), "host:host.example.org");
    assert_string_equal(of(0, "", "alice"), "user:alice");
    assert_string_equal(of(0, NULL, NULL), "local");
    assert_true(source_is_local("local") && source_is_local("user:alice"));
    /* A long name is cut to fit, never overflows. */
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_true(strlen(of(0, longname, NULL)) < 96);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setuid_real_uid_wins),
        cmocka_unit_test(test_ipv4_and_loopback),
        cmocka_unit_test(test_own_addresses_are_loopback),
        cmocka_unit_test(test_ipv6_by_64),
        cmocka_unit_test(test_names_and_fallbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
