/* source.h - who is asking for a login, for the fair limits (pending.h).
 *
 * A source is what one party cannot multiply at will:
 *   - a setuid host (sudo, su) run by a user: "uid:N", the real uid the
 *     kernel gives the process (never an environment variable or a PAM
 *     item the caller could set);
 *   - a network service (sshd): "ip:ADDRESS" for IPv4, "ip6:PREFIX/64" for
 *     IPv6 (one host can hold a whole /64), "host:NAME" when sshd resolved
 *     the address to a name (UseDNS yes); every loopback address, and
 *     every address of this host's own, is one source, "ip:loopback" (a
 *     local user could otherwise be one source per address, ssh -b);
 *   - else the PAM_RUSER the host set ("user:NAME"), or "local" (a console
 *     login). */
#ifndef SSO_SOURCE_H
#define SSO_SOURCE_H

#include <security/pam_modules.h>
#include <stdbool.h>
#include <stddef.h>

/* A local source (uid:, user:, local), as opposed to a network one (ip:,
 * ip6:, host:): the fair limits keep the two classes' places apart. */
bool source_is_local(const char *source);

/* Write the source of this login into out (at most len bytes). */
void source_of_login(pam_handle_t *pamh, char *out, size_t len);

/* The source for a given real uid, rhost and ruser (NULL or "" when not
 * set): the rule above, apart from PAM, for tests. */
void source_from(unsigned long ruid, const char *rhost, const char *ruser, char *out,
                 size_t len);

#endif
