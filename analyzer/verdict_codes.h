/*
 * verdict_codes.h - the one list of verdict codes.
 *
 * Each line is X(IDENT, "CODE", DETECTION): the identifier after the
 * VERDICT_ prefix, the code as users see it (fedtrace explain, JSON), and
 * whether the correlator can produce it today (DETECTED) or the code is
 * in the catalogue of ../shared/docs/failure-taxonomy.md only (NOT_YET).
 * The list yields enum verdict_code (verdict.h) and the catalogue keys
 * (verdict.c): a code missing here does not compile, in the correlator or
 * in the catalogue.  Order: the catalogue's (by stage, then how early in
 * the stage the failure shows).  Add a code here, then its entry in
 * verdict.c; when the correlator learns to emit one, flip it to DETECTED.
 *
 * The stream error codes STR-<CONDITION> are DETECTED as a family: the
 * correlator maps every RFC 6120 condition it reads to its code.
 */
#ifndef FT_VERDICT_CODES_H
#define FT_VERDICT_CODES_H

#define VERDICT_CODE_LIST(X) \
    X(DNS_NO_QUERY,                 "DNS-NO-QUERY",                 NOT_YET) \
    X(DNS_SERVFAIL,                 "DNS-SERVFAIL",                 DETECTED) \
    X(DNS_TIMEOUT,                  "DNS-TIMEOUT",                  DETECTED) \
    X(DNS_TRUNC_NO_TCP,             "DNS-TRUNC-NO-TCP",             DETECTED) \
    X(DNS_SRV_NXDOMAIN,             "DNS-SRV-NXDOMAIN",             DETECTED) \
    X(DNS_SRV_NODATA,               "DNS-SRV-NODATA",               DETECTED) \
    X(DNS_XMPPS_ONLY,               "DNS-XMPPS-ONLY",               NOT_YET) \
    X(DNS_SRV_DOT,                  "DNS-SRV-DOT",                  DETECTED) \
    X(DNS_SRV_PORT,                 "DNS-SRV-PORT",                 NOT_YET) \
    X(DNS_SRV_CNAME,                "DNS-SRV-CNAME",                NOT_YET) \
    X(DNS_TARGET_NXDOMAIN,          "DNS-TARGET-NXDOMAIN",          DETECTED) \
    X(DNS_PRIVATE_ADDR,             "DNS-PRIVATE-ADDR",             DETECTED) \
    X(DNS_OWN_DOMAIN_WRONG,         "DNS-OWN-DOMAIN-WRONG",         NOT_YET) \
    X(DNS_NO_AAAA_V6_ONLY,          "DNS-NO-AAAA-V6-ONLY",          NOT_YET) \
    X(DNS_V6_UNREACH,               "DNS-V6-UNREACH",               NOT_YET) \
    X(DNS_FALLBACK_AFTER_SRV,       "DNS-FALLBACK-AFTER-SRV",       NOT_YET) \
    X(TCP_NO_SYNACK,                "TCP-NO-SYNACK",                DETECTED) \
    X(TCP_ICMP_UNREACH,             "TCP-ICMP-UNREACH",             NOT_YET) \
    X(TCP_RST,                      "TCP-RST",                      DETECTED) \
    X(TCP_WRONG_PORT,               "TCP-WRONG-PORT",               NOT_YET) \
    X(TCP_PAT_MISMATCH,             "TCP-PAT-MISMATCH",             DETECTED) \
    X(TCP_ASYM_NAT,                 "TCP-ASYM-NAT",                 NOT_YET) \
    X(TCP_SLOW_CONNECT,             "TCP-SLOW-CONNECT",             NOT_YET) \
    X(TCP_ONE_WAY,                  "TCP-ONE-WAY",                  NOT_YET) \
    X(TCP_HALF_OPEN,                "TCP-HALF-OPEN",                NOT_YET) \
    X(TCP_RESET_MID,                "TCP-RESET-MID",                NOT_YET) \
    X(STR_NO_HEADER,                "STR-NO-HEADER",                DETECTED) \
    X(STR_NO_RESPONSE,              "STR-NO-RESPONSE",              DETECTED) \
    X(STR_NS,                       "STR-NS",                       DETECTED) \
    X(STR_NO_DB_NS,                 "STR-NO-DB-NS",                 NOT_YET) \
    X(STR_FROM_MISSING,             "STR-FROM-MISSING",             NOT_YET) \
    X(STR_TO_MISMATCH,              "STR-TO-MISMATCH",              NOT_YET) \
    X(STR_VERSION,                  "STR-VERSION",                  NOT_YET) \
    X(STR_XML,                      "STR-XML",                      NOT_YET) \
    X(STR_BAD_FORMAT,               "STR-BAD-FORMAT",               DETECTED) \
    X(STR_BAD_NAMESPACE_PREFIX,     "STR-BAD-NAMESPACE-PREFIX",     DETECTED) \
    X(STR_CONFLICT,                 "STR-CONFLICT",                 DETECTED) \
    X(STR_CONNECTION_TIMEOUT,       "STR-CONNECTION-TIMEOUT",       DETECTED) \
    X(STR_HOST_GONE,                "STR-HOST-GONE",                DETECTED) \
    X(STR_HOST_UNKNOWN,             "STR-HOST-UNKNOWN",             DETECTED) \
    X(STR_IMPROPER_ADDRESSING,      "STR-IMPROPER-ADDRESSING",      DETECTED) \
    X(STR_INTERNAL_SERVER_ERROR,    "STR-INTERNAL-SERVER-ERROR",    DETECTED) \
    X(STR_INVALID_FROM,             "STR-INVALID-FROM",             DETECTED) \
    X(STR_INVALID_NAMESPACE,        "STR-INVALID-NAMESPACE",        DETECTED) \
    X(STR_INVALID_XML,              "STR-INVALID-XML",              DETECTED) \
    X(STR_NOT_AUTHORIZED,           "STR-NOT-AUTHORIZED",           DETECTED) \
    X(STR_NOT_WELL_FORMED,          "STR-NOT-WELL-FORMED",          DETECTED) \
    X(STR_POLICY_VIOLATION,         "STR-POLICY-VIOLATION",         DETECTED) \
    X(STR_REMOTE_CONNECTION_FAILED, "STR-REMOTE-CONNECTION-FAILED", DETECTED) \
    X(STR_RESET,                    "STR-RESET",                    DETECTED) \
    X(STR_RESOURCE_CONSTRAINT,      "STR-RESOURCE-CONSTRAINT",      DETECTED) \
    X(STR_RESTRICTED_XML,           "STR-RESTRICTED-XML",           DETECTED) \
    X(STR_SEE_OTHER_HOST,           "STR-SEE-OTHER-HOST",           DETECTED) \
    X(STR_SYSTEM_SHUTDOWN,          "STR-SYSTEM-SHUTDOWN",          DETECTED) \
    X(STR_UNDEFINED_CONDITION,      "STR-UNDEFINED-CONDITION",      DETECTED) \
    X(STR_UNSUPPORTED_ENCODING,     "STR-UNSUPPORTED-ENCODING",     DETECTED) \
    X(STR_UNSUPPORTED_FEATURE,      "STR-UNSUPPORTED-FEATURE",      DETECTED) \
    X(STR_UNSUPPORTED_STANZA_TYPE,  "STR-UNSUPPORTED-STANZA-TYPE",  DETECTED) \
    X(STR_UNSUPPORTED_VERSION,      "STR-UNSUPPORTED-VERSION",      DETECTED) \
    X(TLS_NOT_OFFERED,              "TLS-NOT-OFFERED",              DETECTED) \
    X(TLS_REQUIRED_MISSING,         "TLS-REQUIRED-MISSING",         DETECTED) \
    X(TLS_STRIP,                    "TLS-STRIP",                    NOT_YET) \
    X(TLS_FAILURE,                  "TLS-FAILURE",                  DETECTED) \
    X(TLS_DESYNC,                   "TLS-DESYNC",                   DETECTED) \
    X(TLS_SNI,                      "TLS-SNI",                      NOT_YET) \
    X(TLS_ALERT,                    "TLS-ALERT",                    DETECTED) \
    X(TLS_CERT_EXPIRED,             "TLS-CERT-EXPIRED",             NOT_YET) \
    X(TLS_CERT_NAME,                "TLS-CERT-NAME",                NOT_YET) \
    X(TLS_CLOSED_AFTER_HANDSHAKE,   "TLS-CLOSED-AFTER-HANDSHAKE",   DETECTED) \
    X(DB_UNSUPPORTED,               "DB-UNSUPPORTED",               NOT_YET) \
    X(DB_BEFORE_TLS,                "DB-BEFORE-TLS",                NOT_YET) \
    X(SASL_NO_MECH,                 "SASL-NO-MECH",                 NOT_YET) \
    X(SASL_FAIL,                    "SASL-FAIL",                    DETECTED) \
    X(SASL_OK,                      "SASL-OK",                      NOT_YET) \
    X(DB_NO_BACKCONN,               "DB-NO-BACKCONN",               DETECTED) \
    X(DB_BACKCONN_BLOCKED,          "DB-BACKCONN-BLOCKED",          NOT_YET) \
    X(DB_TIMEOUT,                   "DB-TIMEOUT",                   DETECTED) \
    X(DB_WRONG_AUTH,                "DB-WRONG-AUTH",                DETECTED) \
    X(DB_INVALID_KEY,               "DB-INVALID-KEY",               NOT_YET) \
    X(DB_INVALID,                   "DB-INVALID",                   DETECTED) \
    X(DB_ERROR,                     "DB-ERROR",                     DETECTED) \
    X(DB_NO_CONNBACK_OK,            "DB-NO-CONNBACK-OK",            NOT_YET) \
    X(DB_MUX_UNVERIFIED,            "DB-MUX-UNVERIFIED",            NOT_YET) \
    X(DB_BIDI,                      "DB-BIDI",                      NOT_YET) \
    X(STZ_BOUNCE_RSNF,              "STZ-BOUNCE-RSNF",              DETECTED) \
    X(STZ_BOUNCE_RST,               "STZ-BOUNCE-RST",               DETECTED) \
    X(STZ_SUB_NOT_SENT,             "STZ-SUB-NOT-SENT",             DETECTED) \
    X(STZ_SVC_UNAVAIL,              "STZ-SVC-UNAVAIL",              DETECTED) \
    X(STZ_ITEM_NF,                  "STZ-ITEM-NF",                  NOT_YET) \
    X(STZ_NOT_ALLOWED,              "STZ-NOT-ALLOWED",              NOT_YET) \
    X(STZ_FORBIDDEN,                "STZ-FORBIDDEN",                NOT_YET) \
    X(STZ_POLICY,                   "STZ-POLICY",                   NOT_YET) \
    X(STZ_ERROR,                    "STZ-ERROR",                    DETECTED) \
    X(STZ_UNSUBSCRIBED_AUTO,        "STZ-UNSUBSCRIBED-AUTO",        NOT_YET) \
    X(STZ_UNSUBSCRIBED,             "STZ-UNSUBSCRIBED",             DETECTED) \
    X(STZ_SUB_PENDING,              "STZ-SUB-PENDING",              DETECTED) \
    X(STZ_PROBE_NO_ANSWER,          "STZ-PROBE-NO-ANSWER",          NOT_YET) \
    X(STZ_ONE_WAY_PRESENCE,         "STZ-ONE-WAY-PRESENCE",         NOT_YET) \
    X(STZ_PING_FAIL,                "STZ-PING-FAIL",                NOT_YET) \
    X(OK,                           "OK",                           DETECTED) \
    X(CAP_NOTHING,                  "CAP-NOTHING",                  DETECTED) \
    X(CAP_DNS_UNSEEN,               "CAP-DNS-UNSEEN",               NOT_YET) \
    X(CAP_MIDSTREAM,                "CAP-MIDSTREAM",                DETECTED) \
    X(CAP_ONE_DIR,                  "CAP-ONE-DIR",                  NOT_YET) \
    X(CAP_GAPS,                     "CAP-GAPS",                     DETECTED) \
    X(CAP_BAD_CSUM,                 "CAP-BAD-CSUM",                 NOT_YET) \
    X(CAP_ENCRYPTED,                "CAP-ENCRYPTED",                DETECTED)

#endif
