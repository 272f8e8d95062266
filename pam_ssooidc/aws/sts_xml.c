/* sts_xml.c - a deliberately narrow, strict reader of STS's XML answers.
 *
 * We need one element, so we accept one document shape and nothing fancy:
 * well-formed XML (every tag closed in order, one root, no DOCTYPE, no
 * CDATA, no processing instruction but the XML declaration, only the five
 * predefined entities and character references), at most a few levels
 * deep, whose root is GetCallerIdentityResponse holding
 * GetCallerIdentityResult/Arn - exactly one Arn element in the whole
 * document, without a namespace prefix, holding ARN characters only. A
 * second Arn anywhere, a prefixed x:Arn, or anything malformed: refused. */
#include "aws/sts.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define XML_DEPTH_MAX 8
#define XML_NAME_MAX 64
#define ARN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/_+=,.@-"

struct xml {
    const char *p, *end;
    char stack[XML_DEPTH_MAX][XML_NAME_MAX];
    int depth;
    bool seen_root;
    /* what we look for: text directly inside an element at a given path */
    const char *const *want; /* path of element names, NULL-terminated */
    int want_depth;
    const char *want_local; /* local name that may appear only at `want` */
    int found;              /* elements with that local name, anywhere */
    const char *text;       /* the text of the wanted element */
    size_t text_len;
};

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == ':';
}

static bool space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static void skip_space(struct xml *x)
{
    while (x->p < x->end && space(*x->p))
        x->p++;
}

static bool starts(const struct xml *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

/* A name into out; false when there is none or it is too long. */
static bool read_name(struct xml *x, char *out)
{
    size_t n = 0;
    while (x->p < x->end && name_char(*x->p)) {
        if (n + 1 >= XML_NAME_MAX)
            return false;
        out[n++] = *x->p++;
    }
    out[n] = '\0';
    return n > 0 && out[0] != ':' && out[0] != '-' && out[0] != '.' &&
           !(out[0] >= '0' && out[0] <= '9');
}

/* &lt; &gt; &amp; &quot; &apos; &#N; &#xN; - nothing else (no DTD). */
static bool skip_reference(struct xml *x)
{
    static const char *const named[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (starts(x, named[i])) {
            x->p += strlen(named[i]);
            return true;
        }
    if (!starts(x, "&#"))
        return false;
    x->p += 2;
    bool hex = x->p < x->end && *x->p == 'x';
    x->p += hex;
    size_t digits = 0;
    unsigned long cp = 0;
    for (; x->p < x->end && digits < 7; x->p++, digits++) {
        char ch = *x->p;
        if (ch >= '0' && ch <= '9')
            cp = cp * (hex ? 16 : 10) + (unsigned long)(ch - '0');
        else if (hex && ch >= 'a' && ch <= 'f')
            cp = cp * 16 + (unsigned long)(ch - 'a' + 10);
        else if (hex && ch >= 'A' && ch <= 'F')
            cp = cp * 16 + (unsigned long)(ch - 'A' + 10);
        else
            break;
    }
    if (digits == 0 || x->p >= x->end || *x->p != ';')
        return false;
    x->p++;
    /* XML 1.0's Char: tab, newline, CR, and the rest from U+0020 up. */
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Character data up to the next '<'; true when well-formed. */
static bool read_text(struct xml *x, const char **start, size_t *len)
{
    *start = x->p;
    while (x->p < x->end && *x->p != '<') {
        if (*x->p == '\0' || *x->p == '>')
            return false;
        if (*x->p == '&') {
            if (!skip_reference(x))
                return false;
        } else {
            x->p++;
        }
    }
    *len = (size_t)(x->p - *start);
    return true;
}

static bool read_attributes(struct xml *x)
{
    char name[XML_NAME_MAX];
    for (;;) {
        skip_space(x);
        if (x->p >= x->end)
            return false;
        if (*x->p == '>' || *x->p == '/')
            return true;
        if (!read_name(x, name))
            return false;
        skip_space(x);
        if (x->p >= x->end || *x->p != '=')
            return false;
        x->p++;
        skip_space(x);
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
            return false;
        char quote = *x->p++;
        while (x->p < x->end && *x->p != quote) {
            if (*x->p == '<' || *x->p == '\0')
                return false;
            if (*x->p == '&') {
                if (!skip_reference(x))
                    return false;
            } else {
                x->p++;
            }
        }
        if (x->p >= x->end)
            return false;
        x->p++;
    }
}

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

/* Is the element just opened (at depth x->depth) the one wanted? */
static bool at_wanted_path(const struct xml *x)
{
    if (x->depth != x->want_depth)
        return false;
    for (int i = 0; i < x->depth; i++)
        if (strcmp(x->stack[i], x->want[i]) != 0)
            return false;
    return true;
}

static bool open_element(struct xml *x)
{
    char name[XML_NAME_MAX];
    if (!read_name(x, name))
        return false;
    const char *after_name = x->p;
    if (!read_attributes(x))
        return false;
    bool bare = x->p == after_name; /* no attributes, no whitespace */
    if (x->depth == 0 && x->seen_root)
        return false; /* a second root */
    if (x->depth >= XML_DEPTH_MAX)
        return false;
    x->seen_root = true;
    memcpy(x->stack[x->depth++], name, sizeof(name));
    bool empty = *x->p == '/';
    if (empty && (++x->p >= x->end || *x->p != '>'))
        return false;
    x->p++; /* '>' */
    if (x->want_local && strcmp(local_name(name), x->want_local) == 0) {
        x->found++;
        /* Exactly <Arn>text</Arn>, as STS writes it: not elsewhere, not
         * prefixed, not empty, no attributes, no markup inside. */
        if (!at_wanted_path(x) || empty || !bare)
            return false;
        char close[XML_NAME_MAX + 4];
        snprintf(close, sizeof(close), "</%s>", name);
        const char *text;
        size_t len;
        if (!read_text(x, &text, &len) || !starts(x, close))
            return false;
        x->text = text;
        x->text_len = len;
    }
    if (empty)
        x->depth--;
    return true;
}

static bool close_element(struct xml *x)
{
    char name[XML_NAME_MAX];
    if (!read_name(x, name))
        return false;
    skip_space(x);
    if (x->p >= x->end || *x->p != '>' || x->depth == 0 ||
        strcmp(x->stack[x->depth - 1], name) != 0)
        return false;
    x->p++;
    x->depth--;
    return true;
}

static bool skip_comment(struct xml *x)
{
    x->p += 4; /* "<!--" */
    while (x->p + 3 <= x->end) {
        if (memcmp(x->p, "--", 2) == 0) /* "--" may only end a comment */
            return x->p[2] == '>' ? (x->p += 3, true) : false;
        if (*x->p == '\0')
            return false;
        x->p++;
    }
    return false;
}

static bool skip_declaration(struct xml *x)
{
    if (!starts(x, "<?xml") || x->end - x->p < 6 || !space(x->p[5]))
        return true; /* none: fine */
    const char *close = NULL;
    for (const char *q = x->p; q + 1 < x->end; q++)
        if (q[0] == '?' && q[1] == '>') {
            close = q;
            break;
        }
    if (!close || memchr(x->p, '\0', (size_t)(close - x->p)))
        return false;
    x->p = close + 2;
    return true;
}

/* Walk the whole document; true when it is well-formed and every rule holds. */
static bool xml_walk(struct xml *x)
{
    if (!skip_declaration(x))
        return false;
    while (x->p < x->end) {
        if (*x->p != '<') {
            const char *text;
            size_t len;
            if (!read_text(x, &text, &len))
                return false;
            if (x->depth == 0) /* only whitespace outside the root */
                for (size_t i = 0; i < len; i++)
                    if (!space(text[i]))
                        return false;
            continue;
        }
        if (starts(x, "<!--")) {
            if (!skip_comment(x))
                return false;
        } else if (starts(x, "</")) {
            x->p += 2;
            if (!close_element(x))
                return false;
        } else if (starts(x, "<!") || starts(x, "<?")) {
            return false; /* DOCTYPE, CDATA, processing instructions */
        } else {
            x->p++;
            if (!open_element(x))
                return false;
        }
    }
    return x->seen_root && x->depth == 0;
}

int sts_parse_arn(const char *xml, size_t len, char *arn, size_t arnlen)
{
    static const char *const path[] = {"GetCallerIdentityResponse", "GetCallerIdentityResult",
                                       "Arn", NULL};
    arn[0] = '\0';
    if (!xml)
        return -1;
    struct xml x = {.p = xml, .end = xml + len, .want = path, .want_depth = 3,
                    .want_local = "Arn"};
    if (!xml_walk(&x) || x.found != 1 || !x.text)
        return -1;
    if (x.text_len == 0 || x.text_len >= arnlen || strspn(x.text, ARN_CHARS) < x.text_len)
        return -1;
    memcpy(arn, x.text, x.text_len);
    arn[x.text_len] = '\0';
    return 0;
}

/* Text of the element at path (no markup inside), into out; -1 when the
 * document is malformed or has no such element. */
static int error_member(const char *xml, size_t len, const char *member, char *out,
                        size_t outlen)
{
    const char *const path[] = {"ErrorResponse", "Error", member, NULL};
    out[0] = '\0';
    struct xml x = {.p = xml, .end = xml + len, .want = path, .want_depth = 3,
                    .want_local = member};
    if (!xml_walk(&x) || x.found != 1 || !x.text)
        return -1;
    size_t n = x.text_len < outlen ? x.text_len : outlen - 1;
    memcpy(out, x.text, n);
    out[n] = '\0';
    return 0;
}

/* Keep only harmless characters of server text destined for syslog. */
static void keep_printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

void sts_parse_error(const char *xml, size_t len, char *code, size_t codelen, char *msg,
                     size_t msglen)
{
    code[0] = msg[0] = '\0';
    if (!xml || codelen == 0 || msglen == 0)
        return;
    error_member(xml, len, "Code", code, codelen);
    error_member(xml, len, "Message", msg, msglen);
    keep_printable(code);
    keep_printable(msg);
}
