/* check_report.c - pam_ssooidc_check's report: findings as lines or one
 * JSON document, the effective configuration with each value's origin, and
 * the verdict (check.h). */
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/check.h"
#include "core/outcome.h"

static const char *const status_word[] = {"ok", "info", "warn", "FAIL"};
static const char *const severity_word[] = {"ok", "info", "warning", "critical"};

void check_report_begin(struct report *r, bool json)
{
    *r = (struct report){.json = json, .findings = json_array(), .out = json_object()};
}

/* Names and details come from files root owns, but reach a terminal:
 * only printable ASCII goes out (JSON escapes the rest itself). */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

/* A copy of text for the terminal or a JSON string (which must be UTF-8,
 * else jansson drops it): printable ASCII only. */
static const char *cleaned(const char *text, char *buf, size_t len)
{
    snprintf(buf, len, "%s", text);
    clean(buf);
    return buf;
}

static void finding(struct report *r, enum check_status st, const char *check,
                    const struct check_where *at, const char *fmt, va_list ap)
{
    char detail[1024], place[CHECK_PLACE_MAX];
    vsnprintf(detail, sizeof(detail), fmt, ap);
    clean(detail);
    place[0] = '\0';
    if (at && at->file) {
        if (at->line)
            snprintf(place, sizeof(place), "%s:%u", at->file, at->line);
        else
            snprintf(place, sizeof(place), "%s", at->file);
        clean(place);
    }
    if ((int)st > r->worst)
        r->worst = (int)st;
    r->count[st]++;
    if (r->json) {
        json_t *f = json_pack("{s:s, s:s, s:s, s:s}", "status", status_word[st], "severity",
                              severity_word[st], "check", check, "detail", detail);
        char file[CHECK_PLACE_MAX], option[128];
        json_object_set_new(f, "file", at && at->file
                                           ? json_string(cleaned(at->file, file, sizeof(file)))
                                           : json_null());
        json_object_set_new(f, "line", at && at->file && at->line ? json_integer(at->line)
                                                                   : json_null());
        json_object_set_new(f, "option", at && at->option
                                             ? json_string(cleaned(at->option, option,
                                                                   sizeof(option)))
                                             : json_null());
        json_array_append_new(r->findings, f);
        return;
    }
    /* A detail that already starts with its place (the configuration's
     * "FILE line N: ...") is not given it twice. */
    bool named = !place[0] || strncmp(detail, at->file, strlen(at->file)) == 0;
    printf("%-5s %s: %s%s%s\n", status_word[st], check, named ? "" : place, named ? "" : ": ",
           detail);
}

void check_finding(struct report *r, enum check_status st, const char *check, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finding(r, st, check, NULL, fmt, ap);
    va_end(ap);
}

void check_finding_at(struct report *r, enum check_status st, const char *check,
                      const struct check_where *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finding(r, st, check, at, fmt, ap);
    va_end(ap);
}

void check_unknown(struct report *r, const char *check, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    finding(r, ST_INFO, check, NULL, fmt, ap);
    va_end(ap);
    r->unknown = true;
}

static const char *source_text(const struct cfg_trace *t, size_t i, const char *conf,
                               const char *stanza, char *buf, size_t len)
{
    switch (t->of[i].source) {
    case CFG_SRC_FILE:
        snprintf(buf, len, "%s:%u", conf, t->of[i].line);
        return buf;
    case CFG_SRC_STANZA:
        return stanza ? stanza : "argument";
    case CFG_SRC_DERIVED:
        return "derived";
    case CFG_SRC_DEFAULT:
        break;
    }
    return "default";
}

void check_report_config(struct report *r, const struct settings *s, const struct cfg_trace *t,
                         const char *stanza)
{
    json_t *out = r->out;
    const struct cfg *c = &s->common;
    json_t *arr = json_array();
    char conf[CFG_PATH_MAX];
    if (!r->json)
        printf("effective configuration (%s):\n", cleaned(c->conf_path, conf, sizeof(conf)));
    for (size_t i = 0; i < settings_option_count(); i++) {
        if (!settings_option_applies(s, i)) /* the other provider's */
            continue;
        char value[CFG_URL_MAX + 8], src[CFG_PATH_MAX + 16];
        char from[CFG_PATH_MAX + 16];
        settings_option_text(s, i, value, sizeof(value));
        clean(value);
        cleaned(source_text(t, i, c->conf_path, stanza, src, sizeof(src)), from, sizeof(from));
        if (r->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "option",
                                                 settings_option_name(i), "value", value, "from",
                                                 from));
        else
            printf("  %-29s = %-44s (%s)\n", settings_option_name(i), value[0] ? value : "\"\"",
                   from);
    }
    /* Several (--service with two lines, --all): the first is the one the
     * sshd checks compare against; each one's errors are findings. */
    if (r->json && !json_object_get(out, "configuration"))
        json_object_set_new(out, "configuration", arr);
    else
        json_decref(arr);
}

static const char *const exit_word[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

int check_report_end(struct report *r, int verdict)
{
    bool login_failed = verdict != -1 && verdict != PAM_SUCCESS;
    int code = CHECK_EXIT_OK;
    if (r->worst >= ST_FAIL || login_failed)
        code = CHECK_EXIT_CRITICAL;
    else if (r->unknown)
        code = CHECK_EXIT_UNKNOWN;
    else if (r->worst >= ST_WARN)
        code = CHECK_EXIT_WARNING;
    if (r->json) {
        json_object_set_new(r->out, "findings", r->findings);
        if (verdict != -1)
            json_object_set_new(r->out, "login", json_string(outcome_code_name(verdict)));
        json_object_set_new(r->out, "ok", json_boolean(code == CHECK_EXIT_OK));
        json_object_set_new(r->out, "status", json_string(exit_word[code]));
        json_object_set_new(r->out, "exit", json_integer(code));
        json_dumpf(r->out, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        json_decref(r->findings);
        if (code == CHECK_EXIT_OK) {
            printf("all is well\n");
        } else {
            /* Say what there is to see: the FAIL and warn lines, the
             * login's verdict, or what could not be checked. */
            char what[256] = "";
            size_t n = 0;
            if (r->count[ST_FAIL])
                n += (size_t)snprintf(what + n, sizeof(what) - n, ", %u FAIL line%s",
                                      r->count[ST_FAIL], r->count[ST_FAIL] == 1 ? "" : "s");
            if (r->count[ST_WARN] && n < sizeof(what))
                n += (size_t)snprintf(what + n, sizeof(what) - n, ", %u warn line%s",
                                      r->count[ST_WARN], r->count[ST_WARN] == 1 ? "" : "s");
            if (login_failed && n < sizeof(what))
                n += (size_t)snprintf(what + n, sizeof(what) - n,
                                      ", the login did not succeed (%s)",
                                      outcome_code_name(verdict));
            if (r->unknown && n < sizeof(what))
                snprintf(what + n, sizeof(what) - n, ", a part could not be checked (info lines)");
            printf("%s: %s\n", exit_word[code], what + 2);
        }
    }
    json_decref(r->out);
    r->findings = r->out = NULL;
    return code;
}
