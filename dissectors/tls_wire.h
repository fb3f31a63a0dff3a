/*
 * tls_wire.h - TLS record content types (RFC 8446 5.1, RFC 6520) and the
 * handshake message types (RFC 8446 4) the record reader (tls.c) and the
 * decryptor (tls_decrypt.c) both need.  Constants only.
 */
#ifndef FT_TLS_WIRE_H
#define FT_TLS_WIRE_H

enum tls_content_type {
    CT_CCS = 20,
    CT_ALERT = 21,
    CT_HANDSHAKE = 22,
    CT_APPDATA = 23,
    CT_HEARTBEAT = 24,
};

enum tls_handshake_type {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_NEW_SESSION_TICKET = 4,
    HS_CERTIFICATE = 11,
    HS_CERT_REQUEST = 13,
    HS_FINISHED = 20,
    HS_KEY_UPDATE = 24,
};

#endif
