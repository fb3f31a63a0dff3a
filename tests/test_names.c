/*
 * test_names.c - every function that names a value read off the wire (or
 * an enum that carries one) returns printable text for every input: the
 * whole value range for wire numbers, and far past the last enumerator for
 * enums.  A NULL or an unprintable byte here is a crash or a broken line
 * in some output format.
 */
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "check.h"
#include "correlate.h"
#include "dissect.h"
#include "dissectors/dns.h"
#include "dissectors/tls.h"
#include "dissectors/xmpp.h"
#include "flow.h"
#include "tok.h"
#include "verdict.h"

static unsigned bad_values;

/* Non-NULL, non-empty, printable ASCII only. */
static int printable(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* Records the first few failures of a walk, then one CHECK for the walk. */
static void note(const char *fn, long v, const char *s)
{
    if (!printable(s)) {
        if (bad_values++ < 5)
            printf("  %s(%ld) = %s\n", fn, v, s ? s : "NULL");
    }
}

#define WALK_DONE(what)          \
    do {                         \
        CHECK(bad_values == 0 && what); \
        bad_values = 0;          \
    } while (0)

static void test_wire_numbers(void)
{
    char buf[64];

    for (long v = 0; v <= 0xFFFF; v++)
        note("dns_type_name", v, dns_type_name((uint16_t)v, buf, sizeof(buf)));
    WALK_DONE("dns_type_name");
    CHECK(strcmp(dns_type_name(65, buf, sizeof(buf)), "HTTPS") == 0);
    CHECK(strcmp(dns_type_name(65280, buf, sizeof(buf)), "TYPE65280") == 0);

    for (long v = 0; v <= 0xFFFF; v++)
        note("tls_version_name", v, tls_version_name((uint16_t)v, buf, sizeof(buf)));
    WALK_DONE("tls_version_name");
    CHECK(strcmp(tls_version_name(0x0304, buf, sizeof(buf)), "TLS 1.3") == 0);
    CHECK(strcmp(tls_version_name(0x1301, buf, sizeof(buf)), "0x1301") == 0);

    for (long v = 0; v <= 0xFF; v++)
        note("tls_alert_name", v, tls_alert_name((uint8_t)v, buf, sizeof(buf)));
    WALK_DONE("tls_alert_name");
    CHECK(strcmp(tls_alert_name(48, buf, sizeof(buf)), "unknown_ca") == 0);
    CHECK(strcmp(tls_alert_name(255, buf, sizeof(buf)), "unknown(255)") == 0);

    for (long v = 0; v <= 0xFF; v++)
        note("tls_alert_level_name", v, tls_alert_level_name((uint8_t)v, buf, sizeof(buf)));
    WALK_DONE("tls_alert_level_name");

    /* Every DLT/LINKTYPE value a file header or an IDB can carry. */
    for (long v = -1; v <= 0xFFFF; v++)
        note("capture_linktype_name", v, capture_linktype_name((int)v, buf, sizeof(buf)));
    WALK_DONE("capture_linktype_name");
    CHECK(strcmp(capture_linktype_name(1, buf, sizeof(buf)), "EN10MB") == 0);
    CHECK(strcmp(capture_linktype_name(65000, buf, sizeof(buf)), "LINKTYPE_65000") == 0);

    /* Callers without room still get text, never NULL. */
    CHECK(printable(tls_alert_name(201, NULL, 0)) && printable(tls_version_name(7, NULL, 0)));
    CHECK(printable(dns_type_name(4242, NULL, 0)) && printable(capture_linktype_name(4242, NULL, 0)));
}

static void test_tok2str(void)
{
    static const struct tok t[] = { { 1, "one" }, { 0, NULL } };
    char buf[TOK_BUFLEN];
    CHECK(strcmp(tok2str(t, 1, "n%u", buf, sizeof(buf)), "one") == 0);
    CHECK(strcmp(tok2str(t, 4000000000u, "n%u", buf, sizeof(buf)), "n4000000000") == 0);
    CHECK(strcmp(tok2str(t, 0x1301, "0x%04x", buf, sizeof(buf)), "0x1301") == 0);
    CHECK(strcmp(tok2str(NULL, 2, "n%u", buf, sizeof(buf)), "n2") == 0);
    CHECK(strcmp(tok2str(t, 2, "n%u", buf, 1), "?") == 0);
}

/* Enums carry values the dissectors derived from the wire; a corrupt or
 * future value must still print. */
static void test_enum_names(void)
{
    for (long v = -2; v < 512; v++) {
        note("dns_err_name", v, dns_err_name((enum dns_err)v));
        note("dns_outcome_name", v, dns_outcome_name((enum dns_outcome)v));
        note("dns_addr_class_name", v, dns_addr_class_name((enum dns_addr_class)v));
        note("tls_event_type_name", v, tls_event_type_name((enum tls_event_type)v));
        note("xmpp_event_type_name", v, xmpp_event_type_name((enum xmpp_event_type)v));
        note("xmpp_error_name", v, xmpp_error_name((enum xmpp_error)v));
        note("xmpp_presence_type_name", v, xmpp_presence_type_name((enum xmpp_presence_type)v));
        note("xmpp_db_type_name", v, xmpp_db_type_name((enum xmpp_db_type)v));
        note("app_proto_name", v, app_proto_name((enum app_proto)v));
        note("flow_end_reason_name", v, flow_end_reason_name((enum flow_end_reason)v));
        note("corr_status_name", v, corr_status_name((enum corr_status)v));
        note("corr_stage_status_name", v, corr_stage_status_name((enum corr_stage_status)v));
        note("fed_stage_name", v, fed_stage_name((enum fed_stage)v));
    }
    WALK_DONE("enum names");
}

int main(void)
{
    test_wire_numbers();
    test_tok2str();
    test_enum_names();
    return check_summary("test_names");
}
