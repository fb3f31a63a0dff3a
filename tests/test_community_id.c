/* test_community_id.c - SHA-1 against FIPS 180 vectors, Community ID
 * against the published v1 vectors (both directions give one value). */
#include <stdio.h>
#include <string.h>

#include "../analyzer/community_id.h"
#include "check.h"

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < 20; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_is(const char *msg, size_t len, const char *want)
{
    uint8_t d[20];
    char h[41];
    community_sha1((const uint8_t *)msg, len, d);
    hex(d, h);
    CHECK(strcmp(h, want) == 0);
}

static void cid_is(const char *a, unsigned pa, const char *b, unsigned pb, unsigned proto, const char *want)
{
    struct ft_addr x, y;
    char out[COMMUNITY_ID_LEN];
    CHECK(ft_addr_parse(&x, a) && ft_addr_parse(&y, b));
    CHECK(strcmp(community_id(&x, (uint16_t)pa, &y, (uint16_t)pb, (uint8_t)proto, 0, out), want) == 0);
    CHECK(strcmp(community_id(&y, (uint16_t)pb, &x, (uint16_t)pa, (uint8_t)proto, 0, out), want) == 0);
}

int main(void)
{
    sha1_is("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_is("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    {
        char m[1000];
        memset(m, 'a', sizeof(m));
        /* 1000 x 'a' crosses several blocks */
        sha1_is(m, sizeof(m), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    }
    /* Published Community ID v1 examples (TCP, UDP, IPv6). */
    cid_is("128.232.110.120", 34855, "66.35.250.204", 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    cid_is("192.168.1.52", 54585, "8.8.8.8", 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
    cid_is("1.2.3.4", 1122, "5.6.7.8", 3344, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
    cid_is("1.2.3.4", 1122, "5.6.7.8", 3344, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
    {
        /* IPv6 goes through the same code with 16-byte addresses: the
         * ordering must still make both directions agree, and differ
         * from the IPv4-mapped form. */
        struct ft_addr x, y, z;
        char o1[COMMUNITY_ID_LEN], o2[COMMUNITY_ID_LEN];
        CHECK(ft_addr_parse(&x, "2001:db8::1") && ft_addr_parse(&y, "2001:db8::2") &&
              ft_addr_parse(&z, "::ffff:1.2.3.4"));
        CHECK(strcmp(community_id(&x, 5269, &y, 40000, 6, 0, o1), community_id(&y, 40000, &x, 5269, 6, 0, o2)) == 0);
        CHECK(strlen(o1) == 30 && o1[0] == '1' && o1[1] == ':');
        CHECK(strcmp(community_id(&x, 5269, &y, 40000, 6, 1, o2), o1) != 0); /* the seed matters */
    }
    return check_summary("community_id");
}
