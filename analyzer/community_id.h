/*
 * community_id.h - the Community ID flow hash (version 1), so fedtrace's
 * connections can be joined with Zeek and Suricata records of the same
 * flows (network.community_id in ECS).
 *
 * "1:" + base64(SHA-1(seed, lower endpoint address, higher address,
 * protocol, 0, lower port, higher port)), with the endpoints ordered so
 * both directions give the same value.  Seed 0 unless told otherwise.
 */
#ifndef FT_COMMUNITY_ID_H
#define FT_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define COMMUNITY_ID_LEN 32 /* "1:" + 28 base64 characters + NUL, rounded up */

/* Writes the ID into out (at least COMMUNITY_ID_LEN bytes); returns out. */
const char *community_id(const struct ft_addr *a, uint16_t pa, const struct ft_addr *b, uint16_t pb,
                         uint8_t proto, uint16_t seed, char *out);

/* SHA-1 of len bytes (FIPS 180-4); exposed for the unit test. */
void community_sha1(const uint8_t *data, size_t len, uint8_t digest[20]);

#endif
