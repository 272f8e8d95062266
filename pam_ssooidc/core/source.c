/* source.c - see source.h. */
#include "core/source.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HOST_NAME_CHARS 255

#define LOOPBACK "ip:loopback" /* loopback and the host's own addresses */

/* IPv4: the address, but all of 127.0.0.0/8 is one source. */
static void ipv4_source(const unsigned char a[4], char *out, size_t len)
{
    char text[INET_ADDRSTRLEN];
    if (a[0] == 127) {
        snprintf(out, len, LOOPBACK);
        return;
    }
    inet_ntop(AF_INET, a, text, sizeof(text));
    snprintf(out, len, "ip:%s", text);
}

/* An IPv6 address as its /64, an IPv4-mapped one as plain IPv4, ::1 as
 * the IPv4 loopback. */
static void ipv6_source(const unsigned char a[16], char *out, size_t len)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    char text[INET6_ADDRSTRLEN];
    if (memcmp(a, mapped, sizeof(mapped)) == 0) {
        ipv4_source(a + 12, out, len);
        return;
    }
    if (memcmp(a, loopback, sizeof(loopback)) == 0) {
        snprintf(out, len, LOOPBACK);
        return;
    }
    unsigned char prefix[16] = {0};
    memcpy(prefix, a, 8);
    inet_ntop(AF_INET6, prefix, text, sizeof(text));
    snprintf(out, len, "ip6:%s/64", text);
}

/* One of this host's own addresses: a connection from it is a local user
 * (ssh -b ADDRESS ADDRESS), who could otherwise be one source per address
 * the host has. */
static bool own_address(int family, const unsigned char *addr)
{
    struct ifaddrs *all = NULL;
    if (getifaddrs(&all) != 0)
        return false;
    bool found = false;
    for (struct ifaddrs *i = all; i && !found; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;
        if (!sa || sa->sa_family != family)
            continue;
        if (family == AF_INET)
            found = memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr, 4) == 0;
        else
            found = memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr,
                           16) == 0;
    }
    freeifaddrs(all);
    return found;
}

/* rhost as sshd sets it: an address, maybe in brackets or with a zone
 * (fe80::1%eth0), or a host name. */
static void remote_source(const char *rhost, char *out, size_t len)
{
    char host[HOST_NAME_CHARS + 1];
    size_t n = strcspn(rhost[0] == '[' ? rhost + 1 : rhost, "]%");
    if (n > HOST_NAME_CHARS)
        n = HOST_NAME_CHARS;
    memcpy(host, rhost[0] == '[' ? rhost + 1 : rhost, n);
    host[n] = '\0';
    unsigned char addr[16];
    if (inet_pton(AF_INET6, host, addr) == 1) {
        if (own_address(AF_INET6, addr))
            snprintf(out, len, LOOPBACK);
        else
            ipv6_source(addr, out, len);
    } else if (inet_pton(AF_INET, host, addr) == 1) {
        if (own_address(AF_INET, addr))
            snprintf(out, len, LOOPBACK);
        else
            ipv4_source(addr, out, len);
    } else {
        for (char *p = host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        snprintf(out, len, "host:%s", host);
    }
}

bool source_is_local(const char *source)
{
    return strncmp(source, "uid:", 4) == 0 || strncmp(source, "user:", 5) == 0 ||
           strcmp(source, "local") == 0;
}

void source_from(unsigned long ruid, const char *rhost, const char *ruser, char *out,
                 size_t len)
{
    if (ruid != 0) /* a setuid host: the kernel's word for who ran it */
        snprintf(out, len, "uid:%lu", ruid);
    else if (rhost && rhost[0])
        remote_source(rhost, out, len);
    else if (ruser && ruser[0])
        snprintf(out, len, "user:%.64s", ruser);
    else
        snprintf(out, len, "local");
}

void source_of_login(pam_handle_t *pamh, char *out, size_t len)
{
    const char *rhost = NULL, *ruser = NULL;
    pam_get_item(pamh, PAM_RHOST, (const void **)&rhost);
    pam_get_item(pamh, PAM_RUSER, (const void **)&ruser);
    source_from((unsigned long)getuid(), rhost, ruser, out, len);
}
