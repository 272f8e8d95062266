/* check_report.c - pam_ssooidc_check's report: findings as lines or one
 * JSON document, the effective configuration with each value's origin, and
 * the verdict (check.h). */
#include <jansson.h>
#include <security/pam_modules.h>
#include <stdarg.h>
#include <stdio.h>

#include "cmd/check.h"
#include "core/outcome.h"

static const char *const status_word[] = {"ok", "info", "warn", "FAIL"};

void check_report_begin(struct report *r, bool json)
{
    *r = (struct report){.json = json, .findings = json_array(), .out = json_object()};
}

void check_finding(struct report *r, enum check_status st, const char *check, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if ((int)st > r->worst)
        r->worst = (int)st;
    if (r->json) {
        json_array_append_new(r->findings, json_pack("{s:s, s:s, s:s}", "status",
                                                     status_word[st], "check", check,
                                                     "detail", detail));
        return;
    }
    printf("%-5s %s: %s\n", status_word[st], check, detail);
}

static const char *source_text(const struct cfg_trace *t, size_t i, const char *conf, char *buf,
                               size_t len)
{
    switch (t->of[i].source) {
    case CFG_SRC_FILE:
        snprintf(buf, len, "%s:%u", conf, t->of[i].line);
        return buf;
    case CFG_SRC_STANZA:
        return "argument";
    case CFG_SRC_DERIVED:
        return "derived";
    case CFG_SRC_DEFAULT:
        break;
    }
    return "default";
}

void check_report_config(struct report *r, const struct settings *s, const struct cfg_trace *t)
{
    json_t *out = r->out;
    const struct cfg *c = &s->common;
    json_t *arr = json_array();
    if (!r->json)
        printf("effective configuration (%s):\n", c->conf_path);
    for (size_t i = 0; i < settings_option_count(); i++) {
        if (!settings_option_applies(s, i)) /* the other provider's */
            continue;
        char value[CFG_URL_MAX + 8], src[CFG_PATH_MAX + 16];
        settings_option_text(s, i, value, sizeof(value));
        const char *from = source_text(t, i, c->conf_path, src, sizeof(src));
        if (r->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "option",
                                                 settings_option_name(i), "value", value, "from",
                                                 from));
        else
            printf("  %-29s = %-44s (%s)\n", settings_option_name(i), value[0] ? value : "\"\"",
                   from);
    }
    if (r->json)
        json_object_set_new(out, "configuration", arr);
    else
        json_decref(arr);
}

bool check_report_end(struct report *r, int verdict)
{
    bool wrong = r->worst >= ST_WARN || (verdict != -1 && verdict != PAM_SUCCESS);
    if (r->json) {
        json_object_set_new(r->out, "findings", r->findings);
        if (verdict != -1)
            json_object_set_new(r->out, "login", json_string(outcome_code_name(verdict)));
        json_object_set_new(r->out, "ok", json_boolean(!wrong));
        json_dumpf(r->out, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        json_decref(r->findings);
        printf("%s\n", wrong ? "something is wrong (see the warn/FAIL lines)" : "all is well");
    }
    json_decref(r->out);
    r->findings = r->out = NULL;
    return wrong;
}
