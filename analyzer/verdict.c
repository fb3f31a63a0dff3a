/*
 * verdict.c - the catalogue of federation verdict codes (see verdict.h).
 *
 * One static entry per code of ../shared/docs/failure-taxonomy.md plus the
 * codes the correlator emits on its own (OK, DB-INVALID, STR-NO-RESPONSE,
 * TLS-CLOSED-AFTER-HANDSHAKE, ...).  The table is ordered by stage, then by
 * how early in that stage the failure shows.  Titles and explanations hold
 * no placeholders; summaries and advice lines may use the placeholders
 * listed in verdict.h, filled in by verdict_render().
 *
 * What the correlator should put in the placeholders:
 *   {local} {remote}  our domain and the other domain of this direction;
 *   {from} {to}       domains of the stream header or db: element (bare
 *                     JIDs for the STZ-* subscription codes);
 *   {qname}           the DNS name asked; for DNS-SRV-CNAME,
 *                     DNS-TARGET-NXDOMAIN and DNS-PRIVATE-ADDR the target host;
 *   {ip} {port}       the destination of the connection in question;
 *   {peer}            the address that sent the decisive packet (stream
 *                     error, RST, ICMP, alert, close) or the other endpoint;
 *   {public_ip} {private_ip}  our firewall's public address and the inside
 *                     address of our XMPP node, when known;
 *   {condition} {text}  the error condition and its <text>; TCP-ICMP-UNREACH
 *                     puts the ICMP type/code in {condition}, TLS-SNI the SNI
 *                     sent in {text}, STR-SEE-OTHER-HOST the new host in {text};
 *   {alert}           the TLS alert as name(number), e.g. unknown_ca(48);
 *   {n}               a count (SYNs, tries, probes, missing bytes);
 *   {seconds}         a duration.
 *
 * Recurring deployment notes used below:
 *  - CUPS/IM&P behind an ASA: outbound s2s usually works through dynamic
 *    PAT, inbound 5269 needs a static PAT plus an ACL; since ASA 8.3 the
 *    ACL names the real (inside) address.
 *  - The dialback check makes the remote server connect back to us, so
 *    our public DNS and inbound NAT matter even when we only "send".
 */
#include <config.h>

#include "verdict.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Shared advice lines                                                 */

#define ADV_ASA_PAT \
    "ASA (8.3+): `object network XMPP-SRV` / `host {private_ip}` / " \
    "`nat (inside,outside) static {public_ip} service tcp 5269 5269`."
#define ADV_ASA_ACL \
    "ASA: `access-list outside_in extended permit tcp any host {private_ip} eq 5269` " \
    "(the ACL names the inside address) bound with `access-group outside_in in interface outside`."
#define ADV_OWN_SRV \
    "Check our public records from outside: `dig SRV _xmpp-server._tcp.{local} @8.8.8.8` " \
    "must give a host whose A record is the firewall's public address {public_ip}, port 5269."

/* ------------------------------------------------------------------ */
/* The codes (verdict_codes.h)                                         */

/* One string constant per code, so a table entry names its code by
 * identifier: CODE(DB_NO_BACKCONN) does not compile when misspelt. */
#define VERDICT_CODE_STRING(id, name, detection) static const char code_name_##id[] = name;
VERDICT_CODE_LIST(VERDICT_CODE_STRING)
#undef VERDICT_CODE_STRING

#define CODE(id) VERDICT_##id, code_name_##id

static const char *const code_names[VERDICT_CODE_COUNT] = {
#define VERDICT_CODE_NAME(id, name, detection) [VERDICT_##id] = code_name_##id,
    VERDICT_CODE_LIST(VERDICT_CODE_NAME)
#undef VERDICT_CODE_NAME
};

#define DETECTED true
#define NOT_YET false
static const bool code_detected[VERDICT_CODE_COUNT] = {
#define VERDICT_CODE_DETECTED(id, name, detection) [VERDICT_##id] = detection,
    VERDICT_CODE_LIST(VERDICT_CODE_DETECTED)
#undef VERDICT_CODE_DETECTED
};
#undef DETECTED
#undef NOT_YET

/* ------------------------------------------------------------------ */
/* The table                                                           */

static const struct verdict_info table[] = {

/* ============================ lookup ============================== */
{
    CODE(DNS_NO_QUERY), STAGE_LOOKUP,
    "No DNS lookup seen before the server-to-server connection",
    "{local} connected to {ip}:{port} for {remote} without an SRV lookup in the capture",
    "The capture holds an s2s connection attempt but no earlier query for the "
    "_xmpp-server._tcp name of the target domain. The address came from somewhere "
    "else: an answer cached before the capture began, a static route (CUPS/IM&P or "
    "Expressway federation static routes, an ejabberd host mapping) or /etc/hosts. "
    "By itself this is not a fault, only a blind spot: the lookup stage cannot be "
    "judged from this capture. It becomes the cause when the static or cached "
    "address is stale and the connect that follows fails. A resolver running on the "
    "XMPP host itself (systemd-resolved, dnsmasq, Prosody's libunbound) also keeps "
    "lookups off an external mirror port.",
    {
        "Start the capture before the first federation attempt, or flush the resolver cache on the XMPP server and retry.",
        "Compare {ip} with the answer of `nslookup -type=SRV _xmpp-server._tcp.{remote}`; a different address points at a static entry.",
        "CUPS/IM&P: review the federation static routes for {remote}; ejabberd: host mappings in ejabberd.yml; any server: /etc/hosts.",
        NULL
    },
    "RFC 6120 §3.2.3"
},
{
    CODE(DNS_SERVFAIL), STAGE_LOOKUP,
    "The resolver failed to answer the lookup (SERVFAIL)",
    "Resolver {resolver} returned SERVFAIL for {qname}",
    "The DNS server the XMPP server uses answered with rcode 2, server failure. "
    "The resolver tried but could not get an answer: a broken delegation of the "
    "remote zone, a DNSSEC validation failure, or an internal resolver with no "
    "forwarders to the Internet. The last case is common with CUPS/IM&P nodes "
    "pointed at an internal-only Active Directory DNS. Without an answer the server "
    "cannot even try the A/AAAA fallback, so federation with that domain stops here.",
    {
        "From the XMPP server's network compare `dig @{resolver} SRV {qname}` with `dig @8.8.8.8 SRV {qname}`.",
        "If only {resolver} fails, fix its forwarders or recursion; `dig +cd @{resolver} SRV {qname}` succeeding means DNSSEC validation is failing.",
        "CUPS/IM&P uses the DNS servers of the node itself: `show network eth0 detail` on the admin CLI lists them.",
        NULL
    },
    "RFC 1035 §4.1.1; RFC 6120 §3.2.1"
},
{
    CODE(DNS_TIMEOUT), STAGE_LOOKUP,
    "The DNS lookup was never answered",
    "{resolver} never answered the query for {qname} ({n} attempts)",
    "The XMPP server sent a query, retransmitted it, and no response came back. "
    "Usually a firewall between the server and its resolver drops UDP/53, the "
    "resolver is down, or the server is configured with a wrong resolver address. "
    "Prosody retransmits the SRV query many times and then also tries A/AAAA for the "
    "bare domain, so the remote user sees a bounce only after tens of seconds; "
    "ejabberd gives up after `s2s_dns_timeout`. Testing from an administrator laptop "
    "proves nothing: the path that matters is from the XMPP server to its resolver.",
    {
        "From the XMPP server itself run `dig @{resolver} SRV {qname}` (CUPS/IM&P admin CLI: `utils network ping {resolver}` for reachability).",
        "Allow UDP and TCP port 53 from the XMPP server to {resolver} on every firewall in between.",
        "ejabberd: raise `s2s_dns_timeout`/`s2s_dns_retries` only after the path works; Prosody: check the resolvers in /etc/resolv.conf.",
        NULL
    },
    "RFC 1035 §4.2.1; ejabberd s2s_dns_timeout"
},
{
    CODE(DNS_TRUNC_NO_TCP), STAGE_LOOKUP,
    "A truncated DNS answer was not retried over TCP",
    "The answer for {qname} from {resolver} was truncated and no TCP retry followed",
    "The UDP response carried the TC bit, meaning the full answer did not fit, and "
    "no DNS-over-TCP query for the same name follows. Large SRV sets (hosted "
    "services list many targets) and DNSSEC signatures push answers over the UDP "
    "size limit. Either TCP/53 is blocked, or a middlebox such as the ASA DNS "
    "inspection limits the message length. A working server retries over TCP at "
    "once (Prosody does), and then this is not a fault. Note that the truncated UDP "
    "answer may name other targets than the complete answer over TCP.",
    {
        "Test the full answer: `dig +tcp SRV {qname} @{resolver}` from the XMPP server's network.",
        "Allow TCP/53 from the XMPP server to {resolver}.",
        "ASA DNS inspection: under `policy-map type inspect dns`, use `message-length maximum client auto` rather than a fixed 512-byte limit.",
        NULL
    },
    "RFC 7766 §5; RFC 6891"
},
{
    CODE(DNS_SRV_NXDOMAIN), STAGE_LOOKUP,
    "The domain has no _xmpp-server SRV record (NXDOMAIN)",
    "SRV {qname} does not exist; {local} should fall back to the address of {remote} on port 5269",
    "The resolver answered name error (rcode 3) for the s2s SRV name. A domain is "
    "allowed to publish no SRV record: the initiating server must then try the A/AAAA "
    "address of the domain itself on port 5269, and Prosody and ejabberd do so. This "
    "is NOT a fault when a connection to that fallback address follows and succeeds. "
    "It is the root cause when the bare domain has no address, or its address is a "
    "web server with nothing on 5269. For our own domain a missing SRV record also "
    "breaks dialback, because remote servers use it to connect back to us.",
    {
        "Check from outside: `nslookup -type=SRV _xmpp-server._tcp.{remote}` or `dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`.",
        "Look for the fallback: `dig A {remote}`, then `telnet <that address> 5269`; a SYN to it should follow in the capture.",
        "For your own domain publish `_xmpp-server._tcp.<domain>` (priority 0, weight 0, port 5269) pointing at a name whose A record is the firewall's public address.",
        NULL
    },
    "RFC 6120 §3.2.1-3.2.2; RFC 2782"
},
{
    CODE(DNS_SRV_NODATA), STAGE_LOOKUP,
    "The SRV name exists but holds no SRV record (NODATA)",
    "SRV {qname} answered NOERROR with no records; {local} should fall back to the address of {remote}",
    "The resolver answered success with an empty answer section. For XMPP this is "
    "handled like NXDOMAIN: the server tries the address records of the bare domain, port 5269. It is "
    "not a fault if that fallback connects. A frequent pattern is a domain that "
    "publishes _xmpp-client (for its users) but no _xmpp-server record, which may "
    "mean the remote organisation has not enabled federation at all, on purpose or "
    "by oversight.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8` and `dig SRV _xmpp-client._tcp.{remote} @8.8.8.8`: a client record alone suggests federation is off at {remote}.",
        "Confirm the fallback: `dig A {remote}` then `telnet <that address> 5269` from outside your network.",
        "Ask the {remote} administrator whether they federate and which host takes s2s traffic.",
        NULL
    },
    "RFC 6120 §3.2.2; RFC 2308 §2.2"
},
{
    CODE(DNS_XMPPS_ONLY), STAGE_LOOKUP,
    "Only the direct-TLS SRV record (_xmpps-server) is published",
    "{remote} publishes _xmpps-server but no _xmpp-server record",
    "The domain advertises s2s only through the XEP-0368 direct TLS record. Servers "
    "that implement XEP-0368 (recent Prosody) connect to that port with TLS at once; "
    "older ones, CUPS/IM&P and many ejabberd setups, query only _xmpp-server and then "
    "fall back to the bare domain on 5269, which usually fails. Publishing both "
    "records costs nothing and keeps older peers working.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8` and `dig SRV _xmpps-server._tcp.{remote} @8.8.8.8`.",
        "Publish `_xmpp-server._tcp.{remote}` for STARTTLS on 5269 next to the `_xmpps-server` record.",
        NULL
    },
    "XEP-0368 §3; RFC 6120 §3.2.1"
},
{
    CODE(DNS_SRV_DOT), STAGE_LOOKUP,
    "The domain declares that it offers no s2s service (SRV target '.')",
    "{remote} publishes an SRV record with target '.': no federation service there",
    "The SRV answer holds a single record whose target is the root name. By RFC 2782 "
    "this states that the service is decidedly not available, and RFC 6120 tells the "
    "initiating server to stop: no A/AAAA fallback, no connection. Prosody then "
    "bounces the stanza with remote-server-not-found. This is a deliberate choice of "
    "the remote domain, not a network fault; any connection attempt that still "
    "follows is a bug in the initiating server.",
    {
        "Confirm with `dig SRV _xmpp-server._tcp.{remote} @8.8.8.8` (target '.').",
        "Ask the {remote} administrator to publish a real s2s target if federation is wanted.",
        "If {remote} is your own domain, replace the '.' record with one pointing at your public XMPP host.",
        NULL
    },
    "RFC 2782; RFC 6120 §3.2.1"
},
{
    CODE(DNS_SRV_PORT), STAGE_LOOKUP,
    "The s2s SRV record points at an unusual port",
    "_xmpp-server._tcp.{remote} points at port {port} instead of 5269",
    "The SRV record for server-to-server traffic names a port other than 5269. "
    "Port 5222 (or 5223) almost always means the record was copied from the "
    "_xmpp-client one, and the connection then lands on the client listener, which "
    "answers with invalid-namespace or closes. A deliberate port such as 443 can be "
    "legitimate, but then every firewall and NAT on the way must forward that port "
    "to the s2s listener. prosodyctl check dns warns about this case.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`: the third number of the answer is the port.",
        "If the port is 5222, correct the record to 5269 (the client record keeps 5222).",
        "If the port is intended, test it end to end: `telnet {ip} {port}` from outside; Prosody admins can run `prosodyctl check dns`.",
        NULL
    },
    "RFC 6120 §3.2.1; RFC 2782"
},
{
    CODE(DNS_SRV_CNAME), STAGE_LOOKUP,
    "The SRV target (or the SRV name) is a CNAME alias",
    "The SRV target {qname} for {remote} resolves through a CNAME",
    "The host named in the SRV record is an alias, or the SRV owner name itself is a "
    "CNAME. RFC 2782 requires the target to be a name with address records. Many "
    "resolvers follow the alias anyway and federation works, so this is often only a "
    "warning; some XMPP servers and checkers refuse it, and hosted setups where the "
    "alias later moves can break silently.",
    {
        "`dig SRV _xmpp-server._tcp.{remote}` then `dig A {qname}`: a CNAME line in the second answer confirms it.",
        "Point the SRV record directly at a host name with A/AAAA records.",
        NULL
    },
    "RFC 2782"
},
{
    CODE(DNS_TARGET_NXDOMAIN), STAGE_LOOKUP,
    "The SRV target host has no address",
    "The SRV record of {remote} names {qname}, which has no A/AAAA record",
    "The SRV lookup succeeded, but the target host it names does not resolve to any "
    "IPv4 or IPv6 address. Typical causes are a typo in the target, a host that was "
    "renamed or retired, or a record left pointing at a previous provider. The "
    "initiating server skips the target; with no other target the federation fails "
    "before any TCP connection.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8` then `dig A {qname} @8.8.8.8` and `dig AAAA {qname} @8.8.8.8`.",
        "Create the A/AAAA record for {qname}, or correct the SRV target to an existing public host.",
        NULL
    },
    "RFC 6120 §3.2.1; RFC 2782"
},
{
    CODE(DNS_PRIVATE_ADDR), STAGE_LOOKUP,
    "The XMPP host resolves to a private address",
    "{qname} resolves to the private address {ip}; remote servers cannot reach it",
    "The address answer is in RFC 1918, unique-local, loopback or link-local space. "
    "When such an answer comes from public DNS, or is given for a remote domain, an "
    "internal record leaked into the public zone and nobody outside can connect. "
    "NOT a fault when our own domain is resolved by an internal resolver: split "
    "horizon DNS legitimately gives the inside address there. What matters for "
    "federation is that public DNS gives the firewall's public address, which the "
    "ASA translates to the IM&P or Expressway node.",
    {
        "Check the public view: `dig A {qname} @8.8.8.8` should return the public address {public_ip}, not {ip}.",
        "Keep the inside address only in the internal DNS view; publish the ASA's public address in the public zone.",
        "Prosody admins: `prosodyctl check dns` warns when a record points at an internal address.",
        NULL
    },
    "RFC 1918; RFC 4193; RFC 6120 §3.2"
},
{
    CODE(DNS_OWN_DOMAIN_WRONG), STAGE_LOOKUP,
    "Our domain's public DNS points at a server that is not ours",
    "Public DNS for {local} points at {ip}, not at our gateway {public_ip}",
    "A lookup of our own domain, usually made by the remote server to verify dialback, "
    "yields an address other than our firewall's: a hosting provider, Google Apps or "
    "Webex, or an old address. The remote server then sends its verification to that "
    "host, which does not know our dialback key and answers invalid, or cannot be "
    "reached at all. Cisco's guidance is explicit: the CUPS/IM&P domain must not be "
    "registered with Webex or Google for XMPP, and the CUPS federation log then shows "
    "an unexpected dialback response.",
    {
        ADV_OWN_SRV,
        "Remove or update SRV/A records for {local} that still point at a former provider ({ip}).",
        "If {local} is registered with Webex or Google Apps, have their support release it from the hosted service.",
        NULL
    },
    "RFC 6120 §3.2; XEP-0220 §2.1.2"
},
{
    CODE(DNS_NO_AAAA_V6_ONLY), STAGE_LOOKUP,
    "The peers share no address family (IPv6-only host, IPv4-only target)",
    "{remote} has no AAAA record but {local} can only reach the Internet over IPv6",
    "The target host has only IPv4 addresses while the initiating server has only "
    "IPv6 connectivity (or the reverse: only AAAA published to an IPv4-only server). "
    "The lookup succeeds but no usable address remains, so no SYN is ever sent or it "
    "fails at once with a local network-unreachable error. This shows in IPv6-only "
    "data centres without NAT64/DNS64 and in new deployments that publish only AAAA.",
    {
        "`dig A {qname}` and `dig AAAA {qname}`: compare with the address families the XMPP server has (`ip addr`).",
        "Publish both A and AAAA records for the s2s host, or provide NAT64/DNS64 for the IPv6-only side.",
        NULL
    },
    "RFC 6120 §3.2.1; RFC 6147"
},
{
    CODE(DNS_V6_UNREACH), STAGE_LOOKUP,
    "The IPv6 address was tried first and is unreachable",
    "SYNs to the IPv6 address {ip} went unanswered for {seconds}s before IPv4 was tried",
    "The target has an AAAA record; the initiating server connected to it first, got "
    "no answer (or an ICMPv6 unreachable), and only after a long delay moved on to "
    "IPv4. Causes are a broken IPv6 path: a firewall without IPv6 rules, a dead "
    "tunnel, or an AAAA record for a host that does not listen on IPv6. XMPP does not "
    "require happy eyeballs, so the delay can exceed the sender's timeout and bounce "
    "stanzas even though IPv4 works.",
    {
        "Test from outside: `nc -6 -vz {ip} 5269` (or `telnet {ip} 5269` on an IPv6-enabled host).",
        "Either fix the IPv6 path (ASA: an `ipv6` ACL entry permitting TCP 5269) or remove the AAAA record.",
        NULL
    },
    "RFC 6120 §3.2.1; RFC 8305"
},
{
    CODE(DNS_FALLBACK_AFTER_SRV), STAGE_LOOKUP,
    "The server fell back to the bare domain although SRV records existed",
    "{local} tried the A/AAAA of {remote} on 5269 after every SRV target failed",
    "SRV records were found and all their targets failed at TCP, then the initiating "
    "server connected to the address of the domain itself on 5269. RFC 6120 says it "
    "should not do that once SRV records were found. The fallback sometimes hides the "
    "real problem (dead SRV targets) when it happens to work, and adds delay when it "
    "does not. The fault to fix is the SRV targets.",
    {
        "List the targets: `dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`, and test each one with `telnet <target> 5269` from outside.",
        "Correct or remove dead SRV targets instead of relying on the A record fallback.",
        NULL
    },
    "RFC 6120 §3.2.1 (step 8)"
},

/* ============================ connect ============================= */
{
    CODE(TCP_NO_SYNACK), STAGE_CONNECT,
    "The connection attempt got no answer at all",
    "{n} SYNs to {ip}:{port} went unanswered (no SYN-ACK, RST or ICMP)",
    "The SYN was retransmitted with growing intervals and nothing came back. Something "
    "drops the packets silently: typically a firewall. For our own address this is "
    "the classic CUPS/IM&P behind an ASA case: outbound works through dynamic PAT, but "
    "there is no static PAT for inbound 5269 or no ACL permitting it. For a remote "
    "address, their firewall drops 5269 or their server is down. Prosody gives up "
    "after 20 s (about 9 SYNs), ejabberd a little earlier.",
    {
        "From a PC outside the ASA run `telnet {ip} {port}`; a blank screen means the path is open (as in Cisco's verification steps).",
        ADV_ASA_PAT,
        ADV_ASA_ACL,
        "Trace it on the ASA: `packet-tracer input outside tcp {peer} 40000 {public_ip} 5269 detailed`; if {ip} is remote, ask its administrators to open 5269.",
        NULL
    },
    "RFC 9293 §3.5; Cisco CUPS XMPP federation guide (telnet test)"
},
{
    CODE(TCP_ICMP_UNREACH), STAGE_CONNECT,
    "A router reported the destination unreachable",
    "{peer} answered the SYN to {ip}:{port} with ICMP unreachable ({condition})",
    "The SYN was answered by an ICMP or ICMPv6 destination-unreachable message that "
    "quotes it. The reporting address tells where the path ends: an intermediate "
    "router means missing routes, a firewall answering administratively prohibited "
    "(code 13 in ICMP, code 1 in ICMPv6) means an ACL rejects the connection, and "
    "port unreachable from the host itself means nothing listens there. "
    "Unlike a silent drop, the answer is immediate, so the initiating server moves on to its next SRV target or gives up within a second.",
    {
        "Check the path from the XMPP server: `traceroute -T -p {port} {ip}`.",
        "If the code is administratively prohibited, find the ACL on {peer} (ASA: `show access-list` and look for hit counts on deny lines).",
        "Fix the route or ACL, then repeat `telnet {ip} {port}`.",
        NULL
    },
    "RFC 792; RFC 4443 §3.1; RFC 1812 §5.2.7.1"
},
{
    CODE(TCP_RST), STAGE_CONNECT,
    "The connection was refused (RST)",
    "{ip}:{port} refused the connection from {local}",
    "The SYN was answered with a reset: the host is reachable but nothing accepts "
    "connections on that port, or a firewall is set to reject instead of drop. On "
    "CUPS/IM&P this means the Cisco XCP XMPP Federation Connection Manager service is "
    "stopped or XMPP federation is not enabled on that node; on Prosody that s2s is "
    "not listening on that interface or port; on ejabberd that no `ejabberd_s2s_in` "
    "listener is bound. Compare the TTL of the RST with that of other packets from the "
    "host to tell a firewall from the server.",
    {
        "On the server: `ss -ltnp | grep 5269` must show the XMPP process listening.",
        "CUPS/IM&P: enable XMPP federation (Presence > Inter-Domain Federation > XMPP Federation > Settings) and start Cisco XCP XMPP Federation Connection Manager in Serviceability.",
        "Prosody: check `s2s_ports` and `s2s_interfaces` and run `prosodyctl status`; ejabberd: add a `listen:` entry with `port: 5269` and `module: ejabberd_s2s_in`.",
        "From inside, `telnet {private_ip} 5269` tests the server without the ASA; from outside, `telnet {ip} {port}` tests the whole path.",
        NULL
    },
    "RFC 9293 §3.5.2; Cisco CUPS XMPP federation guide"
},
{
    CODE(TCP_WRONG_PORT), STAGE_CONNECT,
    "The connection went to an unexpected port",
    "{local} connected to {ip} on port {port}, which matches neither the SRV record nor the default 5269",
    "The initiating server connected to a port that no SRV record announced and that "
    "is not the s2s default. This comes from a static route or host entry with a typo, "
    "an old configuration, or a port-translation rule that moves 5269 to another "
    "inside port. The connection may reach a different service (often the client "
    "port 5222) and fail at the stream header.",
    {
        "Compare with `dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`.",
        "Correct the static route (CUPS/IM&P, Expressway) or host mapping that holds port {port}.",
        "ASA: `show nat detail` to see whether a rule translates 5269 to another port.",
        NULL
    },
    "RFC 6120 §3.2"
},
{
    CODE(TCP_PAT_MISMATCH), STAGE_CONNECT,
    "The firewall translates port 5269 to a different inside port",
    "Outside {public_ip}:5269 is translated to {private_ip}:{port} inside",
    "Captures on both sides of the NAT show the same connection arriving on 5269 "
    "outside and leaving towards another port inside, or dialback back-connections "
    "landing on an unexpected port. The static PAT entry on the ASA names the wrong "
    "real port, or dynamic PAT is used for traffic that must come in. The s2s "
    "listener on the server then never sees the connection, or the client listener "
    "receives it.",
    {
        "ASA: `show nat detail` and `show xlate local {private_ip}`.",
        "ASA (8.3+): `object network XMPP-SRV` / `host {private_ip}` / `nat (inside,outside) static {public_ip} service tcp 5269 5269` (same port on both sides).",
        ADV_ASA_ACL,
        NULL
    },
    "Cisco CUPS XMPP federation guide (static PAT for 5269)"
},
{
    CODE(TCP_ASYM_NAT), STAGE_CONNECT,
    "Replies bypass the NAT device",
    "Replies from {private_ip} to {peer} leave by a path that skips the NAT",
    "The inside capture shows the server answering the SYN, while on the outside "
    "no SYN-ACK ever appears, or one appears carrying the private source address. The reply is leaving "
    "by another route than the one the request came in on: the server "
    "routes its answers via a router other than the ASA (hosts with one leg in a DMZ "
    "and one inside), or a static NAT is missing so the "
    "answer goes out untranslated. The remote side sees no answer and the firewall "
    "drops the half-seen connection. This verdict needs captures on both sides.",
    {
        "On the server: `ip route get {peer}` must use the ASA as next hop (CUPS/IM&P: `show network eth0 detail` shows the gateway).",
        "ASA: `show conn address {private_ip}` and `show xlate local {private_ip}`.",
        ADV_ASA_PAT,
        NULL
    },
    "RFC 2663 §2.2"
},
{
    CODE(TCP_SLOW_CONNECT), STAGE_CONNECT,
    "The connection succeeded only after retries",
    "Connecting to {ip}:{port} took {seconds}s ({n} SYN retransmissions)",
    "The SYN had to be resent before a SYN-ACK came back, or several SRV targets were "
    "tried one after the other before one answered. Federation works, so this is "
    "informational. It points at packet loss, rate limiting, or a dead "
    "higher-priority SRV target; the delay becomes a fault only when it approaches "
    "the sender's s2s timeout and stanzas start to bounce.",
    {
        "List the SRV targets in priority order with `dig SRV _xmpp-server._tcp.{remote} @8.8.8.8` and test each with `telnet <target> 5269`.",
        "Remove dead targets from the SRV set; look for loss on the path with `mtr -T -P {port} {ip}`.",
        NULL
    },
    "RFC 9293 §3.8.1; RFC 6120 §3.2.1"
},
{
    CODE(TCP_ONE_WAY), STAGE_CONNECT,
    "Only one direction of the connection is visible",
    "Only one direction of the connection with {peer} was seen",
    "Packets of this TCP connection appear in one direction only. Most often this is a "
    "capture problem: the SPAN or mirror port copies only ingress or only egress, or "
    "only one VLAN. It can also be real asymmetric routing, where the return path "
    "skips the ASA and the firewall drops the connection for lack of state. Check the "
    "capture first before blaming the network.",
    {
        "Mirror both directions: on Cisco switches `monitor session 1 source interface <port> both`.",
        "If the capture is complete, check that the server's route to {peer} goes through the ASA (`show conn address {peer}` on the ASA).",
        NULL
    },
    "RFC 9293; Zeek conn.log history semantics"
},
{
    CODE(TCP_HALF_OPEN), STAGE_CONNECT,
    "TCP was accepted but no data was ever exchanged",
    "{ip}:{port} accepted the connection but it stayed silent for {seconds}s and closed",
    "The three-way handshake completed, then no payload flowed in either direction "
    "until the connection was closed or reset. Something accepts TCP on that port "
    "without speaking XMPP: a load balancer with no healthy backend, a proxy or "
    "inspection engine, a wrong service behind a port forward, or an overloaded "
    "server whose accept queue is not served. When the initiating server did send "
    "its stream header, the verdict is STR-NO-RESPONSE instead.",
    {
        "From outside `telnet {ip} {port}` and paste a stream header; an XMPP server answers at once with its own.",
        "Check what really listens behind the forward: `ss -ltnp | grep 5269` on the target host.",
        "ASA/load balancer: verify the translated backend and its health checks.",
        NULL
    },
    "RFC 9293; RFC 6120 §4.2"
},
{
    CODE(TCP_RESET_MID), STAGE_CONNECT,
    "The connection was reset after the stream had started",
    "{peer} reset the connection after {seconds}s, without closing the XML stream",
    "A RST arrived after the stream (and possibly TLS) was under way, without a "
    "stream error or closing tag first. A server crash or restart can do this, but "
    "more often it is a middlebox: an IPS or inspection engine that dislikes the "
    "encrypted bytes after STARTTLS, or a firewall whose idle timeout is shorter "
    "than the servers' keepalive interval and which resets or forgets the "
    "connection. A RST whose TTL differs from the peer's other packets was made by a "
    "device in the path.",
    {
        "ASA: `show conn address {peer}` and `show running-config timeout`; the `timeout conn` idle value must exceed the s2s keepalive interval.",
        "Keep s2s connections alive: XEP-0199 pings or whitespace keepalives (Prosody `tcp_keepalives = true`; ejabberd `s2s_timeout` for idle closing).",
        "Exclude the XMPP server from IPS/inspection policies that reset unrecognised TLS on 5269.",
        NULL
    },
    "RFC 6120 §4.4, §4.6.1; XEP-0199"
},

/* ============================= stream ============================= */
{
    CODE(STR_NO_HEADER), STAGE_STREAM,
    "The first bytes on the s2s port were not an XML stream header",
    "The connection from {peer} to {ip}:{port} started with something other than <stream:stream>",
    "TCP came up, but the first data is not an XMPP stream opening: a TLS "
    "ClientHello (a XEP-0368 direct-TLS peer talking to a STARTTLS port), an HTTP "
    "request, or other binary data. The receiving server cannot parse it and closes, "
    "often with a stream error such as not-well-formed or bad-format. Direct TLS "
    "belongs on the port of the _xmpps-server record (often 5270), never on 5269.",
    {
        "Check which port the peer used against `dig SRV _xmpps-server._tcp.{remote}` and `dig SRV _xmpp-server._tcp.{remote}`.",
        "If the peer uses direct TLS, publish `_xmpps-server` on a port with a direct-TLS listener, or remove the wrong record.",
        NULL
    },
    "RFC 6120 §4.2; XEP-0368"
},
{
    CODE(STR_NO_RESPONSE), STAGE_STREAM,
    "The stream header got no reply",
    "{local} opened a stream to {ip}:{port} for {remote} and nothing came back within {seconds}s",
    "TCP was established and the initiating side sent its <stream:stream> header, but "
    "the other end sent no stream header, no error, nothing, until a timeout. A real "
    "XMPP server answers immediately (even to refuse a domain it opens its own "
    "header first). So the port is held by something that is not an XMPP server: a "
    "load balancer without backend, a proxy, a wrong service behind the PAT rule, or "
    "a hung server process.",
    {
        "From outside `telnet {ip} {port}` and type a stream header; no reply confirms the far end is not XMPP.",
        "Check the service behind the translation: on the ASA `show nat detail`, on the server `ss -ltnp | grep 5269`.",
        "If the far end is our CUPS/IM&P node, restart the Cisco XCP XMPP Federation Connection Manager and the Cisco XCP Router.",
        NULL
    },
    "RFC 6120 §4.2, §4.3"
},
{
    CODE(STR_NS), STAGE_STREAM,
    "The stream used the client namespace on the server port (or the reverse)",
    "{peer} opened a jabber:client stream towards {ip}:{port}, an s2s port",
    "The stream header's default namespace is not jabber:server although the "
    "connection is server-to-server (or jabber:server arrived on the client port). "
    "Client and server ports are mixed up: usually the SRV record for s2s points at "
    "port 5222, or a static route names the client port. The receiving server "
    "answers with invalid-namespace and closes.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`: the port must be the s2s port (5269), not 5222.",
        "Correct static routes or port forwards that send s2s traffic to the client listener.",
        NULL
    },
    "RFC 6120 §4.8.2, §4.9.3.10"
},
{
    CODE(STR_NO_DB_NS), STAGE_STREAM,
    "The stream offers no dialback although dialback is needed",
    "{peer} declared no dialback support and {local} cannot authenticate with certificates",
    "The s2s stream header carries no jabber:server:dialback namespace and the "
    "features advertise no dialback, while the other side cannot use SASL EXTERNAL "
    "(no trusted certificate). No authentication method is left, so the stream ends "
    "with a close or an error. Common with ejabberd configurations that lack "
    "`mod_s2s_dialback` and with servers set to certificate-only authentication.",
    {
        "ejabberd: enable `mod_s2s_dialback` in the `modules:` section and restart.",
        "Prosody: keep the dialback module loaded (it is by default); with `s2s_secure_auth = true` only certificates are accepted.",
        "Or give both sides publicly trusted certificates so SASL EXTERNAL can be used.",
        NULL
    },
    "XEP-0220 §2.4; XEP-0178"
},
{
    CODE(STR_FROM_MISSING), STAGE_STREAM,
    "The initiating stream header has no 'from' address",
    "The stream header from {peer} to {to} carries no from attribute",
    "RFC 6120 says the initiating server should name its own domain in the from "
    "attribute. Older servers omit it. Many receiving servers cope, so this alone is "
    "informational, but some answer with improper-addressing or invalid-from, and "
    "certificate-based authentication needs the domain to be known.",
    {
        "Upgrade the initiating server (the one at {peer}) to a release that sends from= on s2s streams.",
        "If the receiving side rejects it, the stream error that follows names the condition.",
        NULL
    },
    "RFC 6120 §4.7.1"
},
{
    CODE(STR_TO_MISMATCH), STAGE_STREAM,
    "The contacted server does not host the requested domain",
    "{ip} does not serve {to} (host-unknown)",
    "The initiating stream header asked for a domain in its to attribute that the "
    "receiving server is not configured for, and it replied host-unknown after "
    "opening its own stream. DNS for that domain points at the wrong machine (a "
    "shared IP, a previous provider), or the domain or sub-domain is simply not "
    "configured there. With CUPS/IM&P this is typical for a federated sub-domain or "
    "chat alias that is missing from the node.",
    {
        "`dig SRV _xmpp-server._tcp.{to} @8.8.8.8`: the target must be the server that hosts {to}.",
        "Add {to} as a hosted domain (Prosody VirtualHost, ejabberd `hosts:`, IM&P domain/alias) or fix DNS.",
        NULL
    },
    "RFC 6120 §4.7.2, §4.9.3.6"
},
{
    CODE(STR_VERSION), STAGE_STREAM,
    "The two servers did not agree on an XMPP version",
    "{peer} sent a stream header without version 1.0 or one the other side rejects",
    "The stream header lacks version='1.0' (pre-RFC 3920 behaviour) or carries a "
    "version the other server does not support, which triggers unsupported-version. "
    "Without version 1.0 there are no stream features: no STARTTLS, no SASL, only "
    "legacy dialback. ejabberd has been seen closing with unsupported-version when it "
    "needed dialback the other side would not give.",
    {
        "Upgrade the legacy server at {peer}; modern servers require version='1.0' for TLS and SASL.",
        "ejabberd: make sure `mod_s2s_dialback` is enabled so legacy peers can still authenticate.",
        NULL
    },
    "RFC 6120 §4.7.5, §4.9.3.25"
},
{
    CODE(STR_XML), STAGE_STREAM,
    "The peer rejected the XML it received",
    "{peer} rejected the XML from {local} as {condition}",
    "The receiving server ended the stream with an XML-level error: not-well-formed, "
    "invalid-xml, restricted-xml or unsupported-encoding. The sender emitted "
    "something XMPP forbids (a DTD, comments, processing instructions, a non-UTF-8 "
    "encoding), or a device in the path altered the bytes. Bytes of a TLS handshake "
    "parsed as XML after a STARTTLS mismatch give the same error.",
    {
        "Look at the last bytes sent before the error (the analyzer shows them) for a DTD, comment or non-UTF-8 data.",
        "Exclude 5269 from any content inspection or rewriting on the firewall.",
        NULL
    },
    "RFC 6120 §4.9.3.13, §4.9.3.18, §4.9.3.22, §11"
},

/* RFC 6120 §4.9.3: one entry per stream error condition. */
{
    CODE(STR_BAD_FORMAT), STAGE_STREAM,
    "Stream error: bad-format",
    "{peer} closed the stream with bad-format: {text}",
    "The peer received XML it could not process and gave no more specific reason. "
    "It is an implementation bug on the sending side or data damaged in transit. A "
    "client/server protocol mix-up or direct TLS sent to a STARTTLS port can also "
    "produce it.",
    {
        "Look at the last stanza sent before the error; report it to the vendor of the sending server.",
        "Check that nothing in the path rewrites TCP payload on 5269.",
        NULL
    },
    "RFC 6120 §4.9.3.1"
},
{
    CODE(STR_BAD_NAMESPACE_PREFIX), STAGE_STREAM,
    "Stream error: bad-namespace-prefix",
    "{peer} rejected a namespace prefix used by {local}: {text}",
    "The peer does not accept a namespace prefix in the stream, for example a stream "
    "prefix other than stream: or dialback elements without the db: prefix. Some "
    "servers only recognise the conventional prefixes even though XML does not "
    "require them. It points at an unusual implementation on one side.",
    {
        "Note which prefix the sender used (shown in the stream header) and report it to that server's vendor.",
        "Upgrade the older of the two servers; current Prosody, ejabberd and CUPS use the conventional prefixes.",
        NULL
    },
    "RFC 6120 §4.9.3.2; XEP-0220 §2"
},
{
    CODE(STR_CONFLICT), STAGE_STREAM,
    "Stream error: conflict (a newer stream replaced this one)",
    "{peer} closed the stream because a new one for {from} and {to} replaced it",
    "The server accepted a new stream for the same domain pair and ended the old "
    "one. This is normal when a server restarts or reconnects and not a fault by "
    "itself. Repeated conflicts every few seconds mean two servers or two cluster "
    "nodes claim the same domain and keep replacing each other's connections.",
    {
        "If it repeats, check that only one node serves federation for {from} (CUPS/IM&P: one federation node per domain unless clustered for it).",
        "Look for duplicate servers behind the same domain in `dig SRV _xmpp-server._tcp.{from}`.",
        NULL
    },
    "RFC 6120 §4.9.3.3"
},
{
    CODE(STR_CONNECTION_TIMEOUT), STAGE_STREAM,
    "Stream error: connection-timeout",
    "{peer} closed the stream after {seconds}s without progress (connection-timeout)",
    "The peer's timer fired: no traffic for too long, or authentication never "
    "finished. On an idle established link it is harmless housekeeping. Before "
    "authentication it usually means the dialback verification never came back: the "
    "receiving server could not connect back to the sender's domain (blocked inbound "
    "5269 or wrong public DNS) and dropped the verify silently. jabberd2 also sends it "
    "when it silently ignores dialback sent without TLS.",
    {
        "If it came before dialback finished, check the connect-back path to the sender: " "`dig SRV _xmpp-server._tcp.{from} @8.8.8.8` and `telnet <that address> 5269` from outside.",
        "If TLS was not used, enable it (Prosody `s2s_require_encryption`, ejabberd `s2s_use_starttls: required`).",
        "Tune expectations with the idle timers: Prosody `s2s_timeout`, ejabberd `s2s_timeout`.",
        NULL
    },
    "RFC 6120 §4.9.3.4; XEP-0220 §2.1"
},
{
    CODE(STR_HOST_GONE), STAGE_STREAM,
    "Stream error: host-gone (the domain is no longer served there)",
    "{peer} no longer serves {to} (host-gone)",
    "The receiving server used to host the requested domain but does not any more: "
    "the domain was removed or migrated. DNS or a static route still sends traffic "
    "to the old server. "
    "The error is final for that server; retrying the same address will not help until DNS or the static route is updated.",
    {
        "Update DNS (`_xmpp-server._tcp.{to}`) or static routes to the server that hosts {to} now.",
        "Ask the {to} administrator where the domain moved.",
        NULL
    },
    "RFC 6120 §4.9.3.5"
},
{
    CODE(STR_HOST_UNKNOWN), STAGE_STREAM,
    "Stream error: host-unknown (the domain is not served there)",
    "{peer} does not host {to} (host-unknown)",
    "The receiving server is not configured for the domain named in the stream "
    "header. DNS for the domain points at the wrong server (shared address, old "
    "provider), or the domain, a sub-domain or a chat alias has not been added on "
    "the server. With dialback the same error can come from the authoritative server "
    "when the verify lands on a host that does not know our domain.",
    {
        "`dig SRV _xmpp-server._tcp.{to} @8.8.8.8` must point at the server that hosts {to}.",
        "Configure {to} on that server (Prosody VirtualHost or Component, ejabberd `hosts:`, IM&P domain or chat node alias).",
        NULL
    },
    "RFC 6120 §4.9.3.6"
},
{
    CODE(STR_IMPROPER_ADDRESSING), STAGE_STREAM,
    "Stream error: improper-addressing",
    "{peer} rejected a stanza from {from} with missing or wrong addressing",
    "A stanza on the server-to-server stream lacked a from or to address, or used a "
    "domain that does not fit the stream. Old servers omit addresses; CUPS/IM&P can "
    "send stanzas from a sub-domain or chat alias that was never authorized on the "
    "stream, which some peers reject this way. "
    "It is an interoperability problem between the two implementations rather than a network fault.",
    {
        "Identify the stanza before the error and its from/to domains.",
        "If the from domain is a sub-domain or alias of {from}, publish its own SRV record and certificate name so it can be authorized.",
        NULL
    },
    "RFC 6120 §4.9.3.7; XEP-0220 §2.6"
},
{
    CODE(STR_INTERNAL_SERVER_ERROR), STAGE_STREAM,
    "Stream error: internal-server-error",
    "{peer} hit an internal error and closed the stream: {text}",
    "The peer failed internally: a misconfiguration, a missing module, a failed "
    "database or a bug. Nothing in the traffic is at fault; the answer is in the "
    "peer's server logs. "
    "If it happens right after a configuration change, that change is the first suspect.",
    {
        "Ask the administrator of {peer} for their server log at the time of the capture.",
        "If {peer} is ours: CUPS/IM&P XCP federation logs, `prosodyctl` log files, or ejabberd's error.log.",
        NULL
    },
    "RFC 6120 §4.9.3.8"
},
{
    CODE(STR_INVALID_FROM), STAGE_STREAM,
    "Stream error: invalid-from (the sender domain was not authorized)",
    "{peer} rejected stanzas from {from}: that domain is not authenticated on this stream",
    "A stanza or header used a from domain that was not verified on this stream "
    "through dialback or SASL. Usually the server multiplexes a second domain (a "
    "sub-domain, a conference service, a chat alias) over an existing stream without "
    "authenticating it first. It can also follow a dialback answer the sender did "
    "not wait for.",
    {
        "Make sure every domain that sends (e.g. conference.{from}) has its own SRV record and certificate name, so it can be verified.",
        "CUPS/IM&P: check the chat node aliases against public DNS and the certificate SAN.",
        NULL
    },
    "RFC 6120 §4.9.3.9; XEP-0220 §2.6"
},
{
    CODE(STR_INVALID_NAMESPACE), STAGE_STREAM,
    "Stream error: invalid-namespace",
    "{peer} rejected the stream namespace sent by {local}",
    "The stream header used a wrong streams namespace or a default namespace that "
    "does not fit the port, usually jabber:client arriving on the server port or the "
    "reverse. Client and server ports were mixed up in an SRV record, static route "
    "or port forward. "
    "It shows within the first round trip, before TLS or authentication start.",
    {
        "`dig SRV _xmpp-server._tcp.{remote} @8.8.8.8`: the port must be the s2s port, not 5222.",
        "Check port forwards on the firewall: outside 5269 must reach the inside s2s listener.",
        NULL
    },
    "RFC 6120 §4.9.3.10"
},
{
    CODE(STR_INVALID_XML), STAGE_STREAM,
    "Stream error: invalid-xml",
    "{peer} found XML from {local} that breaks the XMPP schema: {text}",
    "The data was well-formed XML but violated the XMPP schema, for example an "
    "element in the wrong place. This is an implementation problem on the sending "
    "side rather than a network fault. "
    "Peers that validate strictly are rare, so the same stanza may pass with other servers.",
    {
        "Capture the offending stanza and report it to the vendor of the sending server.",
        "Upgrade the sending server; disable non-standard extensions if the stanza comes from one.",
        NULL
    },
    "RFC 6120 §4.9.3.11"
},
{
    CODE(STR_NOT_AUTHORIZED), STAGE_STREAM,
    "Stream error: not-authorized",
    "{peer} refused {from}: not authorized ({text})",
    "The peer ended the stream because the sender was not authenticated. The meaning "
    "depends on when it happens. Right after a dialback result of invalid or error, "
    "the verification failed (wrong DNS for the sender's domain, a connect-back that "
    "never arrived, a foreign server answering for our domain). Before any "
    "authentication it means stanzas were sent too early, or the receiving server "
    "demands a certificate (Prosody `s2s_secure_auth`) that was not provided.",
    {
        "Look at the dialback or SASL exchange just before the error; the verdict for that step is the real cause.",
        ADV_OWN_SRV,
        "If the peer demands certificate authentication, install a publicly trusted certificate for {from} (Prosody: `prosodyctl cert import`; IM&P: cup-xmpp-s2s certificate).",
        NULL
    },
    "RFC 6120 §4.9.3.12; XEP-0220 §2.1"
},
{
    CODE(STR_NOT_WELL_FORMED), STAGE_STREAM,
    "Stream error: not-well-formed",
    "{peer} received XML from {local} that is not well-formed",
    "The bytes received are not well-formed XML. Typical causes are a middlebox "
    "altering the stream, a TLS handshake that one side started while the other still "
    "parsed XML (STARTTLS out of step), or a buggy sender. "
    "Because the parser cannot recover, the stream always ends here and all queued stanzas bounce.",
    {
        "Check whether TLS bytes appear where XML was expected (see TLS-DESYNC) and whether a device in the path inspects 5269.",
        "Exclude the XMPP servers from payload inspection on the ASA or IPS.",
        NULL
    },
    "RFC 6120 §4.9.3.13"
},
{
    CODE(STR_POLICY_VIOLATION), STAGE_STREAM,
    "Stream error: policy-violation",
    "{peer} refused the stream by local policy: {text}",
    "The peer's administrator configured a rule the sender broke: TLS required but "
    "not used, a certificate required, a domain on a deny list, or a size or rate "
    "limit. The text element, when present, says which rule. Cisco CUPS/IM&P and "
    "Expressway apply their federation allow/deny lists this way; Prosody uses "
    "`s2s_require_encryption` and `s2s_secure_auth`; ejabberd uses `s2s_access`.",
    {
        "Read the text: {text}.",
        "TLS policy: enable s2s TLS on the sending side (ejabberd `s2s_use_starttls: required`; Prosody `s2s_require_encryption = true`; IM&P security mode SMART-TLS or TLS Required).",
        "Domain policy: ask the {peer} administrator to allow {from} (IM&P: Presence > Inter-Domain Federation > XMPP Federation > Policy; ejabberd `s2s_access`).",
        NULL
    },
    "RFC 6120 §4.9.3.14; RFC 7590 §3.1"
},
{
    CODE(STR_REMOTE_CONNECTION_FAILED), STAGE_STREAM,
    "Stream error: remote-connection-failed (the dialback connect-back failed)",
    "{peer} could not connect back to {from} to verify it",
    "The receiving server needed to reach another server to finish the job, in "
    "practice the authoritative server of the sender's domain for the dialback check, "
    "and could not. Either public DNS does not lead to the sender's gateway (no "
    "SRV or A record, or a stale one), or the sender's firewall drops or does not "
    "translate incoming 5269. This is the typical failure of "
    "CUPS/IM&P behind an ASA with only dynamic PAT: outbound works, the call back "
    "does not.",
    {
        "Check `nslookup -type=SRV _xmpp-server._tcp.{from}` from outside; it must lead to the public address of {from}'s firewall.",
        "From outside `telnet <that address> 5269`; a blank screen means the inbound path works.",
        ADV_ASA_PAT,
        ADV_ASA_ACL,
        NULL
    },
    "RFC 6120 §4.9.3.15; XEP-0220 §2.1.2"
},
{
    CODE(STR_RESET), STAGE_STREAM,
    "Stream error: reset",
    "{peer} asked to reset the stream: {text}",
    "The peer closed the stream because security-relevant state changed, for example "
    "its certificates or keys were replaced. The sender must reconnect and "
    "authenticate again. It is transient unless it repeats.",
    {
        "Let the servers reconnect; if it repeats, check certificate renewals and restarts on {peer}.",
        "CUPS/IM&P: restart Cisco XCP Router after certificate changes rather than during traffic.",
        NULL
    },
    "RFC 6120 §4.9.3.16"
},
{
    CODE(STR_RESOURCE_CONSTRAINT), STAGE_STREAM,
    "Stream error: resource-constraint",
    "{peer} has no resources to serve the stream from {local}",
    "The peer is out of memory, connections or file descriptors and refuses to "
    "service the stream. It is a load problem on that server, not a federation "
    "configuration fault. "
    "It is usually transient; if it persists, the remote server needs more capacity or higher limits.",
    {
        "Retry later; if persistent, ask the {peer} administrator to check load and connection limits.",
        "If {peer} is ours, check file descriptor limits (`ulimit -n`) and memory on the XMPP server.",
        NULL
    },
    "RFC 6120 §4.9.3.17"
},
{
    CODE(STR_RESTRICTED_XML), STAGE_STREAM,
    "Stream error: restricted-xml",
    "{peer} rejected restricted XML (comment, DTD, PI or entity) from {local}",
    "The sender used XML features XMPP forbids: comments, processing instructions, "
    "DTDs or internal entity references. It is an implementation bug in the sender "
    "or a device that injects content. "
    "Current Prosody, ejabberd and CUPS/IM&P releases do not emit such constructs.",
    {
        "Find the comment, DTD or processing instruction in the bytes before the error and report it to the sending server's vendor.",
        "Exclude 5269 from any content rewriting on the path.",
        NULL
    },
    "RFC 6120 §4.9.3.18, §11.1"
},
{
    CODE(STR_SEE_OTHER_HOST), STAGE_STREAM,
    "Stream error: see-other-host (redirect)",
    "{peer} redirected {local} to {text}",
    "The peer asks the initiating server to connect to another host and port instead, "
    "named in the element's content (IPv6 addresses in brackets). It is used for load "
    "balancing and migrations. A new connection to that host should follow; if none "
    "does, or it fails, the initiating server does not support redirects or cannot "
    "reach the new host.",
    {
        "Check that a connection to the named host follows (`telnet <host> <port>` from the XMPP server).",
        "If the sender ignores redirects, ask the {peer} administrator to update DNS to the new host instead.",
        NULL
    },
    "RFC 6120 §4.9.3.19"
},
{
    CODE(STR_SYSTEM_SHUTDOWN), STAGE_STREAM,
    "Stream error: system-shutdown",
    "{peer} closed the stream because it is shutting down",
    "The server is being stopped or restarted and closes its streams. It is "
    "transient and expected during maintenance; the servers reconnect when it is "
    "back. "
    "It becomes a problem only when the server does not come back and later connections are refused or time out.",
    {
        "Retry after the restart; a new connection should work without changes.",
        "If it happens often, ask the {peer} administrator about restarts (CUPS/IM&P: services restarted after configuration changes).",
        NULL
    },
    "RFC 6120 §4.9.3.20"
},
{
    CODE(STR_UNDEFINED_CONDITION), STAGE_STREAM,
    "Stream error: undefined-condition",
    "{peer} closed the stream with an application-specific condition: {text}",
    "The peer used the catch-all condition; the real reason is in the text element or "
    "in an application-specific child element. Read them as the peer's own words. "
    "The same text usually appears in the peer's server log, which the remote administrator can match.",
    {
        "Read the text ({text}) and any extra child element of the stream error.",
        "Ask the {peer} administrator for the matching server log entry.",
        NULL
    },
    "RFC 6120 §4.9.3.21"
},
{
    CODE(STR_UNSUPPORTED_ENCODING), STAGE_STREAM,
    "Stream error: unsupported-encoding",
    "{peer} rejected the character encoding used by {local}",
    "The stream was not encoded in UTF-8, the only encoding XMPP allows. It is an "
    "implementation bug or a transcoding device in the path. "
    "Prosody, ejabberd and CUPS/IM&P always send UTF-8, so a transcoding middlebox is the more likely culprit between them.",
    {
        "Check the XML declaration and bytes of the sender's stream header for a non-UTF-8 encoding.",
        "Upgrade the sending server or remove the device that transcodes the stream.",
        NULL
    },
    "RFC 6120 §4.9.3.22, §11.6"
},
{
    CODE(STR_UNSUPPORTED_FEATURE), STAGE_STREAM,
    "Stream error: unsupported-feature",
    "{peer} requires a feature {local} does not support: {text}",
    "The receiving side requires a stream feature the initiating side does not offer, "
    "most often STARTTLS (one side requires TLS, the other has no certificate or TLS "
    "disabled) or a way to authenticate (no dialback, no usable SASL mechanism). "
    "Typical pairs are an old CUPS node without s2s TLS facing a Prosody server with `s2s_require_encryption`, or an ejabberd without `mod_s2s_dialback` facing a peer without a trusted certificate. The features list sent just before the error shows what was required.",
    {
        "Compare the features the peer advertised with what the sender used (the analyzer lists both).",
        "Align TLS settings: Prosody `s2s_require_encryption`, ejabberd `s2s_use_starttls`, IM&P XMPP federation security mode.",
        "Align authentication: enable dialback (ejabberd `mod_s2s_dialback`) or install trusted certificates for SASL EXTERNAL.",
        NULL
    },
    "RFC 6120 §4.9.3.23"
},
{
    CODE(STR_UNSUPPORTED_STANZA_TYPE), STAGE_STREAM,
    "Stream error: unsupported-stanza-type",
    "{peer} received a top-level element from {local} it does not support",
    "The sender put an element at the top level of the stream that the peer does not "
    "know, for example a starttls request where none was offered, or a bidi element "
    "with an unexpected namespace (a known ejabberd issue with XEP-0288). It is an "
    "interoperability problem between the two implementations. "
    "The stream ends, so every queued stanza bounces until one side is fixed.",
    {
        "Identify the element sent just before the error.",
        "Upgrade both servers; if bidi is involved, disable XEP-0288 (ejabberd `mod_s2s_bidi`) until both agree.",
        NULL
    },
    "RFC 6120 §4.9.3.24; XEP-0288"
},
{
    CODE(STR_UNSUPPORTED_VERSION), STAGE_STREAM,
    "Stream error: unsupported-version",
    "{peer} does not support the XMPP version offered by {local}",
    "The version attribute in the stream header is one the peer does not support, or "
    "missing where the peer requires 1.0. Legacy pre-RFC 3920 servers and some "
    "ejabberd setups without dialback have been seen closing this way. "
    "Without a common version the servers cannot negotiate TLS or SASL at all.",
    {
        "Upgrade the legacy server; both sides should send version='1.0'.",
        "ejabberd: enable `mod_s2s_dialback` so peers without SASL can still authenticate.",
        NULL
    },
    "RFC 6120 §4.7.5, §4.9.3.25"
},

/* =============================== tls ============================== */
{
    CODE(TLS_NOT_OFFERED), STAGE_TLS,
    "The receiving server does not offer STARTTLS",
    "{peer} offered no STARTTLS in its features to {local}",
    "The stream features from the receiving server contain no starttls element while "
    "the initiating server needs encryption. The receiving server has no certificate "
    "configured for s2s, or TLS is switched off for federation. A server that "
    "requires encryption then closes or reports policy-violation.",
    {
        "Install a certificate for s2s on {peer}: Prosody `prosodyctl cert import /etc/letsencrypt/live`; ejabberd `certfiles:`; IM&P cup-xmpp-s2s certificate.",
        "Enable TLS for federation (ejabberd `s2s_use_starttls: optional` or `required`; IM&P security mode SMART-TLS or TLS Required).",
        NULL
    },
    "RFC 6120 §5.3.1; RFC 7590 §3"
},
{
    CODE(TLS_REQUIRED_MISSING), STAGE_TLS,
    "TLS was required but the initiating server never started it",
    "{peer} required TLS but {local} never sent <starttls/>",
    "The receiving server's features mark STARTTLS as required, but the initiating "
    "server went on without it, then got policy-violation or unsupported-feature, or "
    "the connection was closed. Older CUPS releases or servers with s2s TLS disabled "
    "(ejabberd `s2s_use_starttls: false`) facing Prosody with `s2s_require_encryption = true` "
    "produce this. "
    "The receiving side behaves correctly; the fix belongs on the initiating server.",
    {
        "Enable s2s TLS on the initiating side: ejabberd `s2s_use_starttls: required`; IM&P XMPP federation security mode SMART-TLS or TLS Required.",
        "Give that server a certificate if it has none (see TLS-NOT-OFFERED).",
        NULL
    },
    "RFC 6120 §5.3.1; RFC 7590 §3.1"
},
{
    CODE(TLS_STRIP), STAGE_TLS,
    "A device in the path removed STARTTLS from the stream features",
    "STARTTLS offered by {ip} did not reach {peer}: a device in the path strips it",
    "Captures on the two sides of a firewall show starttls in the features on one side "
    "and not on the other. A device is rewriting the XMPP stream, either an "
    "inspection feature or an attacker. The servers then fall back to cleartext or "
    "fail if they require TLS.",
    {
        "Disable XMPP/ESMTP-style protocol inspection for 5269 on the firewall.",
        "Require TLS on both servers (Prosody `s2s_require_encryption = true`; ejabberd `s2s_use_starttls: required`) so stripping fails loudly.",
        NULL
    },
    "RFC 7590 §3.1"
},
{
    CODE(TLS_FAILURE), STAGE_TLS,
    "The receiving server could not start TLS",
    "{peer} answered <starttls/> with <failure/>",
    "The initiating server asked for STARTTLS and the receiving server refused with a "
    "TLS failure element and closed. The server offered TLS but cannot actually use "
    "it: an unreadable or missing private key, a certificate file with wrong "
    "permissions, or a broken TLS library setup. "
    "The offer of STARTTLS in the features was therefore misleading, and the fault lies entirely with the receiving server.",
    {
        "On {peer} check the server log for certificate/key loading errors (Prosody: `prosodyctl check certs`).",
        "Fix file permissions of the key so the XMPP process can read it, then restart the service.",
        NULL
    },
    "RFC 6120 §5.4.2.2"
},
{
    CODE(TLS_DESYNC), STAGE_TLS,
    "STARTTLS went out of step",
    "After <proceed/> on the stream with {peer}, TLS and XML data did not line up",
    "After the proceed element both sides must switch to TLS. Here XML kept flowing "
    "after proceed, or TLS records started before proceed was seen. A middlebox that "
    "strips or rewrites STARTTLS, or an implementation bug, causes it; the other side "
    "then reports not-well-formed or drops the connection.",
    {
        "Capture on both sides of the firewall to find where the stream changes.",
        "Disable protocol inspection or rewriting for 5269 on the firewall and IPS.",
        NULL
    },
    "RFC 6120 §5.4.3.3; RFC 7590 §3.1"
},
{
    CODE(TLS_SNI), STAGE_TLS,
    "The TLS server name (SNI) is not the XMPP domain",
    "The ClientHello to {ip} named {text} instead of {remote}",
    "The server name indication in the ClientHello is not the target XMPP domain: it "
    "is the SRV target host or absent. The receiving server may then present its "
    "default certificate, which does not match the domain and fails verification. "
    "Prosody sends no SNI on STARTTLS, so absence alone is not a fault when the "
    "receiving server has one certificate for its domain.",
    {
        "Make the default certificate of the receiving server cover the XMPP domain {remote}.",
        "Upgrade the initiating server so it sends the JID domain as SNI.",
        NULL
    },
    "RFC 6066 §3; RFC 7590 §3.2; XEP-0368"
},
{
    CODE(TLS_ALERT), STAGE_TLS,
    "The TLS handshake was aborted with an alert",
    "{peer} sent TLS alert {alert} during the handshake with {ip}",
    "A TLS alert record ended the handshake. The alert names the reason: "
    "handshake_failure(40) means no common cipher, bad_certificate(42) and "
    "unsupported_certificate(43) a rejected certificate, certificate_expired(45) an "
    "expired one, unknown_ca(48) a certificate from a CA the peer does not trust (a "
    "self-signed CUPS/IM&P certificate or a missing intermediate), protocol_version(70) "
    "no common TLS version (old CUPS with TLS 1.0 against a modern server), and "
    "unrecognized_name(112) an SNI the server does not know. The side that sends the "
    "alert is the one that refused.",
    {
        "Alert {alert} was sent by {peer}: that side refused the other's offer or certificate.",
        "unknown_ca: use a certificate from a public CA, or upload the peer's root CA (IM&P: as cup-xmpp-trust); include the intermediate chain.",
        "protocol_version or handshake_failure: test with `openssl s_client -connect {ip}:5269 -starttls xmpp-server -xmpphost {remote}` and align TLS versions and ciphers (ejabberd `s2s_protocol_options`).",
        NULL
    },
    "RFC 8446 §6.2; RFC 5246 §7.2; RFC 7590 §3.4"
},
{
    CODE(TLS_CERT_EXPIRED), STAGE_TLS,
    "The server certificate has expired",
    "The certificate presented for {remote} by {ip} has expired",
    "The certificate visible in the handshake (TLS 1.2 or earlier, or a keylog) has a "
    "not-after date before the capture time. The other server refuses it, often with "
    "alert 45, or falls back to dialback if its policy allows. "
    "Renewals that update the file but do not reload the XMPP service show the old expired certificate until a restart.",
    {
        "Check the dates: `openssl s_client -connect {ip}:5269 -starttls xmpp-server -xmpphost {remote} | openssl x509 -noout -dates`.",
        "Renew the certificate (Prosody: `prosodyctl cert import`; ejabberd: `certfiles:`; IM&P: regenerate or re-sign cup-xmpp-s2s) and restart the s2s service.",
        NULL
    },
    "RFC 5280 §4.1.2.5; RFC 6120 §13.7.2"
},
{
    CODE(TLS_CERT_NAME), STAGE_TLS,
    "The certificate does not name the XMPP domain",
    "The certificate from {ip} does not cover {remote}",
    "The certificate's subject alternative names (and CN) do not include the XMPP "
    "domain, nor an SRV-ID or XmppAddr for it. Usually it was issued for the host "
    "name (cups01.corp.example) instead of the domain, or a multi-domain IM&P "
    "deployment lacks some domains or chat aliases in the SAN. The peer can then not "
    "use SASL EXTERNAL and falls back to dialback, or fails when it requires secure "
    "authentication (Prosody `s2s_secure_auth`).",
    {
        "Inspect the names: `openssl s_client -connect {ip}:5269 -starttls xmpp-server -xmpphost {remote} | openssl x509 -noout -ext subjectAltName`.",
        "Reissue the certificate with {remote} (and its chat aliases) in the SAN; IM&P: cup-xmpp-s2s CSR with all domains.",
        "Until then make sure dialback is allowed on both sides as a fallback.",
        NULL
    },
    "RFC 6120 §13.7.1.2; RFC 6125 §6; XEP-0178 §3"
},
{
    CODE(TLS_CLOSED_AFTER_HANDSHAKE), STAGE_TLS,
    "The peer closed right after the TLS handshake (certificate likely rejected)",
    "{peer} closed the connection {seconds}s after the TLS 1.3 handshake with {local}",
    "The TLS 1.3 handshake finished, then one side closed (FIN, often followed by "
    "RST) within moments: the receiver answered the initiator's encrypted stream "
    "header with a single record (stream header, stream error and close) and hung "
    "up (rule `tls-answer-then-close`). With TLS 1.3 the "
    "certificates and any alert are encrypted, so only sizes and timing are visible. The "
    "most likely reading is that the closing side rejected the other's certificate "
    "(wrong name, untrusted CA, expired) under a policy such as Prosody's "
    "`s2s_secure_auth`. Confidence is medium; a keylog file would confirm it.",
    {
        "Check the certificate of the side that did not close: `openssl s_client -connect {ip}:5269 -starttls xmpp-server -xmpphost {remote}` (verify result, names, dates).",
        "Prosody: `prosodyctl check certs`; with `s2s_secure_auth = true` untrusted certificates are refused, consider `s2s_insecure_domains` for that domain.",
        "Capture again with a key log from one of the servers (`--tls-keylog FILE`, tools/keylog/README) to see the alert itself.",
        NULL
    },
    "RFC 8446 §4.4.2, §6; RFC 7590 §3.4"
},

/* ============================ dialback ============================ */
{
    CODE(DB_UNSUPPORTED), STAGE_AUTH,
    "The receiving server does not do dialback",
    "{peer} offers no dialback and did not accept {local}'s certificate",
    "The receiving server's header has no dialback namespace and its features no "
    "dialback element, so it only accepts certificate authentication. The initiating "
    "server's certificate was not good enough for SASL EXTERNAL, so it gives up and "
    "closes. The receiving side is a secure-only server by design.",
    {
        "Install a publicly trusted certificate whose SAN names {local} (Prosody `prosodyctl cert import`; ejabberd `certfiles:`; IM&P cup-xmpp-s2s signed by a public CA).",
        "Or ask the {peer} administrator to enable dialback for your domain.",
        NULL
    },
    "XEP-0220 §2.4; XEP-0178 §3"
},
{
    CODE(DB_BEFORE_TLS), STAGE_AUTH,
    "Dialback was attempted before the required TLS",
    "{local} sent db:result in cleartext although {peer} required TLS",
    "The receiving server advertised STARTTLS as required, but the initiating server "
    "sent its dialback key without starting TLS first. A correct receiver answers "
    "policy-violation; some (jabberd2) drop the key silently, and the stream later "
    "dies with connection-timeout. "
    "ejabberd with `s2s_use_starttls: false` or an old CUPS node set to No TLS facing Prosody with `s2s_require_encryption = true` is the usual pair.",
    {
        "Enable TLS on the initiating server: ejabberd `s2s_use_starttls: required`; IM&P security mode SMART-TLS or TLS Required.",
        "Prosody on the receiving side keeps refusing with `s2s_require_encryption = true`, which is correct.",
        NULL
    },
    "XEP-0220 §2.5; XEP-0344; RFC 7590 §3.1"
},
{
    CODE(SASL_NO_MECH), STAGE_AUTH,
    "No authentication method was offered after TLS",
    "{peer} offered {local} neither SASL EXTERNAL nor dialback after TLS",
    "After the TLS restart the features contain no SASL mechanisms (or not EXTERNAL) "
    "and no dialback. The receiving server did not accept the initiator's "
    "certificate, so it does not offer EXTERNAL, and it has dialback disabled. ejabberd "
    "logs this as the peer providing no SASL mechanisms.",
    {
        "Get a certificate for {local} that the peer trusts (public CA, SAN containing {local}).",
        "Or enable dialback on {peer} (ejabberd `mod_s2s_dialback`; Prosody keeps dialback unless `s2s_secure_auth = true`).",
        NULL
    },
    "RFC 6120 §6.3.3; XEP-0178 §3"
},
{
    CODE(SASL_FAIL), STAGE_AUTH,
    "Certificate authentication (SASL EXTERNAL) was refused",
    "{peer} refused SASL EXTERNAL for {local}: {condition}",
    "The initiating server tried SASL EXTERNAL and got a failure such as "
    "not-authorized, invalid-authzid, invalid-mechanism or temporary-auth-failure. "
    "The certificate does not cover the sending domain, or the authorization identity "
    "does not match it. XEP-0178 allows the sender to try dialback next; look for a "
    "db:result on this stream or a fresh one before calling federation broken.",
    {
        "Check the names in our certificate: `openssl s_client -connect {ip}:5269 -starttls xmpp-server -xmpphost {remote}` from the peer's side, or inspect our cert's SAN for {local}.",
        "Reissue the certificate with {local} in the SAN (IM&P: cup-xmpp-s2s with all domains).",
        "Keep dialback enabled as a fallback while certificates are fixed.",
        NULL
    },
    "RFC 6120 §6.5; XEP-0178 §3"
},
{
    CODE(SASL_OK), STAGE_AUTH,
    "Certificate authentication (SASL EXTERNAL) succeeded",
    "{peer} accepted {local}'s certificate with SASL EXTERNAL",
    "The receiving server answered success to SASL EXTERNAL and the stream restarted. "
    "The initiating domain is authenticated by its certificate; no dialback is needed "
    "on this stream. This is positive evidence, not a fault; any later failure lies "
    "in the stanza stage or the other direction.",
    {
        "No action needed for this direction.",
        "If federation still fails, check the reverse direction ({remote} to {local}) and stanza errors.",
        NULL
    },
    "XEP-0178 §3; RFC 6120 §6.4.6"
},
{
    CODE(DB_NO_BACKCONN), STAGE_AUTH,
    "The remote server never connected back to verify the dialback key",
    "{remote} never connected back to {local} to verify the dialback key",
    "Our server sent its dialback key (db:result), but no db:verify carrying that "
    "stream's id appears on any connection, and the result never came or came as an "
    "error (remote-connection-failed, remote-server-timeout). The remote server could "
    "not reach our authoritative server: public DNS for our domain is absent or "
    "leads elsewhere, or our firewall drops or does not translate incoming 5269. This is the classic CUPS/IM&P "
    "behind an ASA case: outbound works through dynamic PAT, the call back has no "
    "way in. Not a fault when TLS certificates already proved the domain (XEP-0344), "
    "which shows as a quick valid result instead.",
    {
        ADV_OWN_SRV,
        "From a PC outside the ASA: `telnet {public_ip} 5269` must give a blank screen; from inside, `telnet {private_ip} 5269` proves the server listens.",
        ADV_ASA_PAT,
        ADV_ASA_ACL,
        NULL
    },
    "XEP-0220 §2.1.2, §2.5; RFC 6120 §3.2"
},
{
    CODE(DB_BACKCONN_BLOCKED), STAGE_AUTH,
    "The remote server's connect-back was blocked at our firewall",
    "{remote} tried to connect back to {public_ip}:5269 ({n} SYNs) but was not let in",
    "The outside capture shows SYNs from the remote server to our public address on "
    "5269, timed with our dialback key, that got no answer or a reset. The connect-back "
    "is real but our firewall drops or refuses it: no static PAT for 5269, no ACL, or "
    "the translation leads to a host where nothing listens. "
    "It is the direct evidence behind DB-NO-BACKCONN, and outbound connections from the same server usually work because they leave through dynamic PAT.",
    {
        ADV_ASA_PAT,
        ADV_ASA_ACL,
        "Verify with `packet-tracer input outside tcp {peer} 40000 {public_ip} 5269 detailed` on the ASA and `telnet {public_ip} 5269` from outside.",
        NULL
    },
    "XEP-0220 §2.1.2; Cisco CUPS XMPP federation guide"
},
{
    CODE(DB_TIMEOUT), STAGE_AUTH,
    "The dialback result never arrived",
    "{local} waited {seconds}s for the dialback result from {remote} and got none",
    "The initiating server sent db:result and no answer came before a timeout, after "
    "which the stream was usually closed with connection-timeout. Most often the "
    "receiving server's connect-back to our domain is hanging (SYNs dropped at our "
    "firewall), and Prosody drops an undeliverable verify silently. Another cause is "
    "a receiver that silently ignores dialback sent without TLS (jabberd2).",
    {
        "Treat it like DB-NO-BACKCONN: " "`dig SRV _xmpp-server._tcp.{local} @8.8.8.8` and `telnet {public_ip} 5269` from outside.",
        "If the stream was not encrypted, enable s2s TLS (ejabberd `s2s_use_starttls: required`; IM&P SMART-TLS).",
        "Shorter timers make failures visible sooner in tests: Prosody `s2s_timeout`, ejabberd `s2s_timeout`.",
        NULL
    },
    "XEP-0220 §2.1; RFC 6120 §4.9.3.4"
},
{
    CODE(DB_WRONG_AUTH), STAGE_AUTH,
    "Dialback was verified against a server that is not ours",
    "The dialback check for {local} went to {ip}, which is not our gateway {public_ip}",
    "The remote server looked up our domain and sent db:verify to an address that is "
    "not our server, for example a hosting provider, Google Apps or Webex, or an old "
    "server. That host cannot know our key, so it answers invalid or item-not-found "
    "and the remote server rejects us. Cisco describes this as the domain being "
    "registered with another provider; the CUPS federation log shows an unexpected "
    "dialback response.",
    {
        ADV_OWN_SRV,
        "Remove or correct the SRV/A records for {local} that point at {ip}.",
        "If {local} is registered with Webex or Google Apps, ask their support to remove it from the hosted service.",
        NULL
    },
    "XEP-0220 §2.1.2, §2.5; Cisco CUPS XMPP federation guide"
},
{
    CODE(DB_INVALID_KEY), STAGE_AUTH,
    "Our own server declared its own dialback key invalid",
    "Our server answered db:verify type='invalid' for a key {local} generated",
    "The connect-back reached our own server, and it answered that the key is "
    "invalid. The key was generated by one node and verified by another that does "
    "not share the dialback secret (DNS round-robin across cluster nodes, Expressway "
    "or IM&P node mismatch), or the server restarted between sending the key and "
    "verifying it and chose a new random secret. "
    "The capture shows it clearly only when the verify reaches our own server; otherwise see DB-INVALID.",
    {
        "Give every node that handles s2s for {local} the same dialback secret (IM&P and Expressway: the Dialback secret field of the XMPP federation settings).",
        "Make `_xmpp-server._tcp.{local}` lead to the node that initiates s2s, or share the secret across nodes.",
        "Avoid restarting the federation service while connections are being verified.",
        NULL
    },
    "XEP-0185 §3; XEP-0220 §2.2.2"
},
{
    CODE(DB_INVALID), STAGE_AUTH,
    "The receiving server rejected the dialback key (type='invalid')",
    "{remote} answered {local}'s dialback with type='invalid'",
    "The receiving server answered db:result with type='invalid': the authoritative "
    "server it asked said the key was wrong. From this capture it cannot be told "
    "whether the verify reached a foreign server (our public DNS points elsewhere, "
    "DB-WRONG-AUTH) or our own server rejected its own key (nodes that do not share "
    "the dialback secret, DB-INVALID-KEY). The originating server then usually closes "
    "with not-authorized.",
    {
        ADV_OWN_SRV,
        "If DNS is right, give every s2s node of {local} the same dialback secret (IM&P/Expressway XMPP federation settings).",
        "Capture on the outside interface as well to see where the verify connection goes.",
        NULL
    },
    "XEP-0220 §2.1.2, §2.2.2; XEP-0185"
},
{
    CODE(DB_ERROR), STAGE_AUTH,
    "Dialback ended with an error",
    "Dialback between {from} and {to} failed with {condition}: {text}",
    "A db:result or db:verify came back with type='error' and a stanza error. "
    "item-not-found: the receiving server does not host the target domain. "
    "remote-connection-failed or remote-server-timeout: it could not reach our "
    "authoritative server (inbound 5269 or our public DNS). remote-server-not-found: "
    "our DNS led to a server that does not know our domain. policy-violation: TLS is "
    "required first. not-authorized: a certificate is required. forbidden: the "
    "verification said invalid. resource-constraint: retry on a new connection.",
    {
        "Condition {condition}: for remote-connection-failed/remote-server-timeout/remote-server-not-found check `dig SRV _xmpp-server._tcp.{from} @8.8.8.8` and `telnet <that address> 5269` from outside.",
        "For policy-violation enable s2s TLS; for not-authorized install a trusted certificate for {from}.",
        "For item-not-found check that {to} is hosted on the server its DNS points to.",
        NULL
    },
    "XEP-0220 §2.5"
},
{
    CODE(DB_NO_CONNBACK_OK), STAGE_AUTH,
    "Dialback succeeded without a connect-back (certificate shortcut)",
    "{remote} accepted {local}'s dialback at once, without connecting back",
    "The dialback result came back valid quickly and no verify connection was seen, "
    "while TLS was in use. The receiving server trusted the TLS certificate as proof "
    "of the domain and skipped the call back (XEP-0344). This is not a fault: it is "
    "a successful authentication.",
    {
        "No action needed for this direction.",
        "Keep the inbound path working anyway: other peers still connect back (`telnet {public_ip} 5269` from outside).",
        NULL
    },
    "XEP-0344 §2; XEP-0220"
},
{
    CODE(DB_MUX_UNVERIFIED), STAGE_AUTH,
    "A sub-domain sent stanzas without being verified on the stream",
    "Stanzas from {from} used a stream on which only another domain was verified",
    "Stanzas arrived from a domain (a conference service, a chat alias, another "
    "hosted domain) that was never authenticated on this stream; only the main domain "
    "was. The receiving server answers invalid-from or improper-addressing. CUPS/IM&P "
    "chat node aliases and sub-domains without their own SRV record and certificate "
    "names produce this.",
    {
        "Publish `_xmpp-server._tcp.{from}` pointing at your public address and add {from} to the certificate SAN.",
        "Make the server authenticate each domain separately (one db:result per domain pair).",
        NULL
    },
    "XEP-0220 §2.6; RFC 6120 §4.9.3.9"
},
{
    CODE(DB_BIDI), STAGE_AUTH,
    "The connection was made bidirectional (XEP-0288)",
    "{local} and {remote} negotiated bidirectional use of one connection",
    "A bidi element was exchanged and stanzas then flow both ways over one TCP "
    "connection. This is an optimisation, not a fault; the analyzer tracks direction "
    "per stanza. A wrong bidi namespace leads to unsupported-stanza-type (a known "
    "ejabberd issue).",
    {
        "No action needed when stanzas flow both ways.",
        "If unsupported-stanza-type follows, disable bidi (ejabberd `mod_s2s_bidi`) on one side until both are upgraded.",
        NULL
    },
    "XEP-0288"
},

/* ============================ subscribe =========================== */
{
    CODE(STZ_BOUNCE_RSNF), STAGE_SUBSCRIBE,
    "Our server bounced a stanza: remote server not found",
    "{local} bounced a stanza to {remote} with remote-server-not-found",
    "Our server returned an error with remote-server-not-found to our own user, "
    "usually seen on the client port. It could not build the s2s connection at all: "
    "DNS, TCP, stream, TLS or dialback failed. Prosody uses this condition when the "
    "remote never opened a stream. The bounce is a symptom; the cause is the earlier "
    "failed attempt for the same domain pair.",
    {
        "Look at the earlier verdict for {local} to {remote} in the lookup, connect, stream, TLS and dialback stages.",
        "Quick checks: `nslookup -type=SRV _xmpp-server._tcp.{remote}` and `telnet <target> 5269` from the XMPP server's network.",
        NULL
    },
    "RFC 6120 §8.3.3.16"
},
{
    CODE(STZ_BOUNCE_RST), STAGE_SUBSCRIBE,
    "Our server bounced a stanza: remote server timeout",
    "{local} bounced a stanza to {remote} with remote-server-timeout",
    "Our server returned remote-server-timeout to our user: the remote server was "
    "reached but the connection did not become usable in time, typically a connect "
    "that took too long or a dialback that never finished. Prosody uses this once a "
    "stream had been opened. The cause is the earlier failed attempt.",
    {
        "Look for TCP-NO-SYNACK, DB-TIMEOUT or DB-NO-BACKCONN earlier for {local} and {remote}.",
        "Check the connect-back path to us: `dig SRV _xmpp-server._tcp.{local} @8.8.8.8` and `telnet {public_ip} 5269` from outside.",
        NULL
    },
    "RFC 6120 §8.3.3.17"
},
{
    CODE(STZ_SUB_NOT_SENT), STAGE_SUBSCRIBE,
    "A subscription request was never forwarded to the remote domain",
    "{from} asked to subscribe to {to}, but no subscribe left {local} over s2s",
    "The client sent a subscription request to our server (seen on the client "
    "port), but no matching presence subscribe shows up on the s2s connections "
    "towards the remote domain. Either s2s was never established (see the earlier stages), or our "
    "own policy discarded it, such as the CUPS/IM&P federation policy or presence "
    "blocking. "
    "A capture of the client port together with the s2s port is needed to tell these apart.",
    {
        "Check the earlier stages for {local} to {remote}; without an authenticated s2s stream nothing is forwarded.",
        "CUPS/IM&P: check Presence > Inter-Domain Federation > XMPP Federation > Policy for {remote}; ejabberd: `s2s_access`; Prosody: any s2s blocking module.",
        NULL
    },
    "RFC 6121 §3.1.2"
},
{
    CODE(STZ_SVC_UNAVAIL), STAGE_SUBSCRIBE,
    "The remote domain answered service-unavailable",
    "{remote} answered a stanza from {from} with service-unavailable",
    "The remote server returned service-unavailable. For a message this often means "
    "the user does not exist or refuses it (privacy lists); it is also how servers "
    "answer when federation with the sender's domain is forbidden by policy, for "
    "example a CUPS/IM&P domain missing from the allow list or a deny-by-default "
    "policy. "
    "Since the error travelled back over s2s, the connection itself works.",
    {
        "Check that the address {to} exists at {remote}.",
        "Ask the {remote} administrator whether {local} is on their federation allow list; on our IM&P check Presence > Inter-Domain Federation > XMPP Federation > Policy.",
        NULL
    },
    "RFC 6120 §8.3.3.19"
},
{
    CODE(STZ_ITEM_NF), STAGE_SUBSCRIBE,
    "The remote domain answered item-not-found",
    "{remote} answered a stanza for {to} with item-not-found",
    "The addressed entity does not exist at the remote server. Usually the JID is "
    "misspelt or the account was removed; the s2s path itself works, since the error "
    "came back over it. "
    "It is not a federation fault.",
    {
        "Verify the address {to} with the contact.",
        "Read the error text if present: {text}.",
        NULL
    },
    "RFC 6120 §8.3.3.7"
},
{
    CODE(STZ_NOT_ALLOWED), STAGE_SUBSCRIBE,
    "The remote domain answered not-allowed",
    "{remote} answered a stanza from {from} with not-allowed",
    "The remote server does not allow the action, typically a policy that limits who "
    "may subscribe or send messages. Some hosted services only accept stanzas from "
    "contacts already in the user's roster. Federation itself works.",
    {
        "Read the error text: {text}.",
        "Ask the contact {to} to add {from} first, or the {remote} administrator to relax the policy.",
        NULL
    },
    "RFC 6120 §8.3.3.10"
},
{
    CODE(STZ_FORBIDDEN), STAGE_SUBSCRIBE,
    "The remote domain answered forbidden",
    "{remote} answered a stanza from {from} with forbidden",
    "The remote server refused the sender for lack of permission: a block list, a "
    "privacy rule, or a federation policy that rejects our domain. The s2s "
    "connection works; the refusal is deliberate. "
    "Only the remote side can change it.",
    {
        "Read the error text: {text}.",
        "Ask the {remote} administrator whether {local} is blocked, or the contact whether {from} is on a block list.",
        NULL
    },
    "RFC 6120 §8.3.3.6"
},
{
    CODE(STZ_POLICY), STAGE_SUBSCRIBE,
    "The remote domain answered policy-violation",
    "{remote} answered a stanza from {from} with policy-violation",
    "The remote server applied a local policy to the stanza: content filtering, "
    "size or rate limits, or rules about who may contact its users. The text "
    "element, if any, names the rule. Federation works; the stanza was refused.",
    {
        "Read the error text: {text}.",
        "Ask the {remote} administrator which policy applies to {local}.",
        NULL
    },
    "RFC 6120 §8.3.3.12"
},
{
    CODE(STZ_ERROR), STAGE_SUBSCRIBE,
    "A subscription request came back with a stanza error",
    "The subscription from {from} to {to} came back with error {condition}",
    "A presence subscription got an error reply with a condition not covered by a "
    "more specific verdict. The condition and text tell why. The s2s path delivered "
    "both the request and the error, so the problem is at the remote server or user, "
    "not in the network.",
    {
        "Read the condition {condition} and text: {text}.",
        "Ask the {remote} administrator about that condition for {to}.",
        NULL
    },
    "RFC 6120 §8.3; RFC 6121 §3.1"
},
{
    CODE(STZ_UNSUBSCRIBED_AUTO), STAGE_SUBSCRIBE,
    "The remote domain refused the subscription at once",
    "{remote} refused the subscription from {from} to {to} immediately",
    "The remote answered the subscribe with unsubscribed right away, without waiting "
    "for a human. A server must do that when the contact does not exist, and some "
    "servers auto-deny subscriptions from other domains by policy. Federation itself "
    "works.",
    {
        "Verify that {to} exists and is spelt correctly.",
        "Ask the {remote} administrator whether subscriptions from {local} are auto-denied.",
        NULL
    },
    "RFC 6121 §3.1.3"
},
{
    CODE(STZ_UNSUBSCRIBED), STAGE_SUBSCRIBE,
    "The contact declined or cancelled the subscription",
    "{to} answered the subscription from {from} with unsubscribed",
    "The remote answered the subscription request with unsubscribed after a delay, "
    "which is how a user declining the request, or cancelling a previous approval, "
    "looks. This is a human decision and not a federation fault: the s2s path "
    "carried both the request and the answer. "
    "The roster entry stays without a subscription until a new request is approved.",
    {
        "Ask {to} whether they declined on purpose; the request can be sent again.",
        "If the answer came within a second, it may be an automatic denial instead (see STZ-UNSUBSCRIBED-AUTO).",
        NULL
    },
    "RFC 6121 §3.1.3, §3.2"
},
{
    CODE(STZ_SUB_PENDING), STAGE_SUBSCRIBE,
    "The subscription request is waiting for the contact's approval",
    "The subscription from {from} to {to} left {local} over s2s and is still pending",
    "The presence subscribe went out over the s2s connection and neither subscribed "
    "nor unsubscribed has come back yet; the roster shows it as pending out. "
    "Normally this is simply a person who has not approved the request yet, and not "
    "a network fault. Prosody acknowledges a subscribe with an unavailable presence, "
    "and a subscribe to a non-existent account can look the same; ejabberd sends "
    "nothing back. It matters only if the remote drops subscriptions by policy. "
    "The direction is therefore reported `ok` with this code (the federation works), "
    "and --fail-on-broken does not fire on it; a denial is STZ-UNSUBSCRIBED.",
    {
        "Ask {to} to look for and accept the pending request.",
        "If it never arrives there, check that {to} exists and that {remote} does not discard subscriptions from {local} by policy.",
        NULL
    },
    "RFC 6121 §3.1.1-3.1.3, Appendix A"
},
{
    CODE(STZ_PROBE_NO_ANSWER), STAGE_SUBSCRIBE,
    "Presence probes got no answer",
    "{local} sent {n} presence probes to {remote} and got no presence back",
    "Our server probes the presence of contacts when a user logs in, and nothing came "
    "back. This is normal when the contacts are offline. It is a fault when the "
    "reverse s2s direction, from the remote domain to us, cannot be built: the "
    "answers would travel on that connection, so presence works only one way. That "
    "points at our inbound path (public DNS, static PAT, ACL).",
    {
        "Check whether any s2s connection from {remote} to {local} succeeded in the capture.",
        "Check the inbound path: `dig SRV _xmpp-server._tcp.{local} @8.8.8.8` and `telnet {public_ip} 5269` from outside.",
        NULL
    },
    "RFC 6121 §4.3; RFC 6120 §4.5"
},
{
    CODE(STZ_ONE_WAY_PRESENCE), STAGE_SUBSCRIBE,
    "Federation works in one direction only",
    "Stanzas flow from {local} to {remote}, but the connection from {remote} to {local} fails",
    "Each s2s connection carries stanzas one way, so working federation needs a good "
    "connection in each direction. Here our outgoing connection works but the "
    "incoming one fails or is never attempted, or the reverse. The typical CUPS/IM&P "
    "behind an ASA picture: outbound goes out through dynamic PAT, inbound 5269 has "
    "no static PAT or ACL, so contacts see us but we never see their presence.",
    {
        ADV_OWN_SRV,
        ADV_ASA_PAT,
        ADV_ASA_ACL,
        "From outside `telnet {public_ip} 5269`; from inside `telnet {private_ip} 5269`.",
        NULL
    },
    "RFC 6120 §4.5; XEP-0220 §2.3"
},
{
    CODE(STZ_PING_FAIL), STAGE_SUBSCRIBE,
    "An s2s ping was not answered",
    "{local} pinged {remote} over s2s and got no reply within {seconds}s",
    "A XEP-0199 ping on the server-to-server connection got no result or an error. "
    "The connection is dead while both servers still believe it is up, very often "
    "because a NAT or firewall dropped its idle state earlier. "
    "Stanzas sent on the dead link are lost until the servers notice and reconnect.",
    {
        "Make the firewall idle timeout (ASA `timeout conn`) longer than the servers' ping or keepalive interval.",
        "Enable s2s keepalives on the servers so NAT state stays fresh.",
        NULL
    },
    "XEP-0199 §4"
},
{
    CODE(OK), STAGE_SUBSCRIBE,
    "Federation works",
    "Federation between {local} and {remote} works in this direction",
    "Every stage was seen to succeed: the lookup, the TCP connection, the stream, "
    "TLS where used, authentication by certificate or dialback, and stanzas that were "
    "delivered and answered. Nothing needs fixing for this direction; check the "
    "opposite direction separately, since each direction has its own connection. "
    "Informational notes (slow connect, SRV fallback) may still be listed next to it.",
    {
        "No action needed for {local} to {remote}.",
        "Check the reverse direction ({remote} to {local}) for its own verdict.",
        NULL
    },
    "RFC 6120 §4; RFC 6121 §3"
},

/* ============================= capture ============================ */
{
    CODE(CAP_NOTHING), STAGE_CAPTURE,
    "No XMPP or DNS traffic for this federation in the capture",
    "The capture holds no XMPP or DNS traffic between {local} and {remote}",
    "Nothing in the capture belongs to this federation: no s2s connection, no lookup "
    "of the domain. The capture was taken at the wrong place or time, a filter "
    "excluded the traffic, or no federation attempt happened while it ran. No "
    "verdict about the network can be drawn.",
    {
        "Capture on the XMPP server or the firewall inside interface: `tcpdump -i any -w fed.pcap port 5269 or port 53 or port 5222`.",
        "Trigger a federation attempt during the capture (add a contact at {remote}, or restart the federation service).",
        NULL
    },
    "—"
},
{
    CODE(CAP_DNS_UNSEEN), STAGE_CAPTURE,
    "DNS traffic cannot be seen from this capture point",
    "DNS lookups of the XMPP server are not visible in the capture",
    "The XMPP server resolves names through a resolver on the same host "
    "(systemd-resolved, dnsmasq, Prosody's libunbound) or the capture point sees "
    "only the external side, so its queries never reach the capture. The lookup "
    "stage cannot be judged; this is a limit of the capture, not a fault. "
    "The servers may well resolve names correctly.",
    {
        "Capture on `any` including loopback on the XMPP server: `tcpdump -i any -w fed.pcap port 53 or port 5269`.",
        "Otherwise accept DNS-NO-QUERY and test lookups by hand: `dig SRV _xmpp-server._tcp.{remote}`.",
        NULL
    },
    "—"
},
{
    CODE(CAP_MIDSTREAM), STAGE_CAPTURE,
    "The capture started in the middle of a session",
    "The connection with {peer} was already established when the capture started",
    "The connection has no SYN and its data starts in the middle of the XML stream. "
    "The stages before the capture started are unknown, not failed; stanzas can "
    "still be followed on the established link. "
    "This is normal for long-running s2s links and not a fault.",
    {
        "Start the capture before the federation attempt, or restart the s2s service to force new connections.",
        "Judge only the stanza stage from this capture.",
        NULL
    },
    "—"
},
{
    CODE(CAP_ONE_DIR), STAGE_CAPTURE,
    "The capture holds only one direction of traffic",
    "Only one direction of the traffic with {peer} was captured",
    "Packets in one direction are missing, usually because the SPAN or mirror session "
    "copies only ingress or egress, or only one VLAN. Verdicts based on the missing "
    "direction would be false, so they are held back. "
    "When both directions are captured and one is still missing, see TCP-ONE-WAY for the routing case.",
    {
        "Mirror both directions: `monitor session 1 source interface <port> both`.",
        "Or capture on the XMPP server itself: `tcpdump -i any -w fed.pcap port 5269`.",
        NULL
    },
    "—"
},
{
    CODE(CAP_GAPS), STAGE_CAPTURE,
    "Packets are missing from the capture",
    "{n} bytes acknowledged by {peer} are missing from the capture",
    "The receiver acknowledged data that the capture never saw. The capture host or "
    "the mirror port dropped packets, so verdicts on this flow have low confidence. "
    "A gap inside an XML stream can also make the dissector lose its place until the next stream restart.",
    {
        "Capture with a larger buffer and a filter: `tcpdump -B 8192 -i any -w fed.pcap port 5269 or port 53`.",
        "Check the SPAN destination port for drops, or capture on the server itself.",
        NULL
    },
    "—"
},
{
    CODE(CAP_BAD_CSUM), STAGE_CAPTURE,
    "Checksums are wrong only on locally sent packets",
    "Packets sent by {ip} carry bad checksums (checksum offload on the capture host)",
    "Every packet originated by the capturing host has a wrong checksum. The network "
    "card computes checksums after the capture point (offload), so this is an "
    "artefact of capturing on the sender, not corruption on the wire. Checksums are "
    "ignored for these packets.",
    {
        "Ignore the checksums (as `zeek -C` does), or turn offload off while capturing: `ethtool -K <iface> tx off rx off`.",
        "Capture on a mirror port instead of the server to see real checksums.",
        NULL
    },
    "—"
},
{
    CODE(CAP_ENCRYPTED), STAGE_CAPTURE,
    "The s2s stream is encrypted; authentication is invisible",
    "The s2s stream between {local} and {remote} is TLS-encrypted and no keylog was given",
    "After STARTTLS everything, including dialback or SASL and the stanzas, is "
    "encrypted. Verdicts for those stages are inferred, marked `inferred` with the "
    "rule that fired, at reduced confidence: from the encrypted record sizes "
    "(`tls-sasl-restart`: a stream restart the size of the first header after a "
    "<success/>-sized answer; `tls-data-both-ways`: XMPP records both ways past the "
    "header exchange; `tls-answer-then-close`: one answer, then a close within a "
    "second; `tls-dialback-size`: a record of the size a <db:result> of the two "
    "domains and a 64/40/44-character key predicts, answered by a record of the "
    "size of type='valid' (dialback ok) or type='invalid' (DB-INVALID, 2 bytes "
    "longer)), from alerts and closes, and from the cleartext client side "
    "(`c2s-subscribed`: the contact's subscribed reached the user, proving both "
    "directions). This code remains only when none of that is in the capture. "
    "Encryption is expected with modern servers and not a fault; it only limits what the capture can prove.",
    {
        "Decrypt the stream: run fedtrace with `--tls-keylog FILE`, a key log from one of the servers (tools/keylog/README: an LD_PRELOAD shim for Prosody and ejabberd, extract-tls-secrets loaded into Openfire's JVM); the key must cover the connections captured.",
        "Capture the client port 5222 too, so bounce errors sent to users are visible.",
        NULL
    },
    "RFC 7590"
},
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))
_Static_assert(TABLE_LEN == VERDICT_CODE_COUNT - 1, "one catalogue entry per code of verdict_codes.h");

/* ------------------------------------------------------------------ */
/* Access                                                              */

const char *fed_stage_name(enum fed_stage s)
{
    switch (s) {
    case STAGE_LOOKUP:    return "lookup";
    case STAGE_CONNECT:   return "connect";
    case STAGE_STREAM:    return "stream";
    case STAGE_TLS:       return "tls";
    case STAGE_AUTH:      return "dialback";
    case STAGE_SUBSCRIBE: return "subscribe";
    case STAGE_CAPTURE:   return "capture";
    case STAGE_COUNT:     break;
    }
    return "unknown";
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Locale-independent case-insensitive equality. */
static int code_equal(const char *a, const char *b)
{
    while (*a && *b) {
        if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
    return *a == *b;
}

const struct verdict_info *verdict_lookup(const char *code)
{
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (code_equal(table[i].code, code))
            return &table[i];
    return NULL;
}

const char *verdict_code_name(enum verdict_code c)
{
    return c > VERDICT_CODE_NONE && c < VERDICT_CODE_COUNT ? code_names[c] : NULL;
}

enum verdict_code verdict_code_from_name(const char *name)
{
    const struct verdict_info *vi = verdict_lookup(name);
    return vi ? vi->id : VERDICT_CODE_NONE;
}

bool verdict_code_detected(enum verdict_code c)
{
    return c > VERDICT_CODE_NONE && c < VERDICT_CODE_COUNT && code_detected[c];
}

/* The table follows the list's order, so entry c - 1 is the code's; the
 * scan only runs if someone reorders one without the other (test_verdict
 * says so). */
const struct verdict_info *verdict_info_of(enum verdict_code c)
{
    if (c <= VERDICT_CODE_NONE || c >= VERDICT_CODE_COUNT)
        return NULL;
    if (table[c - 1].id == c)
        return &table[c - 1];
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (table[i].id == c)
            return &table[i];
    return NULL;
}

size_t verdict_count(void)
{
    return TABLE_LEN;
}

const struct verdict_info *verdict_at(size_t i)
{
    return i < TABLE_LEN ? &table[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static const char *var_value(const struct verdict_vars *v, const char *name, size_t len)
{
    static const struct {
        const char *name;
        size_t off;
    } vars[] = {
        { "local", offsetof(struct verdict_vars, local) },
        { "remote", offsetof(struct verdict_vars, remote) },
        { "from", offsetof(struct verdict_vars, from) },
        { "to", offsetof(struct verdict_vars, to) },
        { "qname", offsetof(struct verdict_vars, qname) },
        { "resolver", offsetof(struct verdict_vars, resolver) },
        { "ip", offsetof(struct verdict_vars, ip) },
        { "port", offsetof(struct verdict_vars, port) },
        { "public_ip", offsetof(struct verdict_vars, public_ip) },
        { "private_ip", offsetof(struct verdict_vars, private_ip) },
        { "condition", offsetof(struct verdict_vars, condition) },
        { "text", offsetof(struct verdict_vars, text) },
        { "alert", offsetof(struct verdict_vars, alert) },
        { "peer", offsetof(struct verdict_vars, peer) },
        { "n", offsetof(struct verdict_vars, n) },
        { "seconds", offsetof(struct verdict_vars, seconds) },
    };
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
            const char *val;
            memcpy(&val, (const char *)v + vars[i].off, sizeof(val));
            return val;
        }
    }
    return NULL;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Appends s[0..n) to out, keeping room for the NUL. */
static void emit(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
    if (outlen == 0 || *pos >= outlen - 1)
        return;
    size_t room = outlen - 1 - *pos;
    if (n > room)
        n = room;
    memcpy(out + *pos, s, n);
    *pos += n;
}

#define STR_WHAT 320

/* What a reader must substitute for a value the capture did not show,
 * e.g. "<public address of a.example.test>". */
static void unknown_value(const struct verdict_vars *v, const char *name, size_t len, char *out, size_t outlen)
{
    static const struct {
        const char *name, *pre, *post; /* with our domain between them when pre is set */
    } what[] = {
        { "public_ip", "<public address of ", ">" },
        { "private_ip", "<inside address of ", "'s server>" },
        { "ip", "<address of the server in question>", NULL },
        { "port", "<port>", NULL },
        { "peer", "<address of the other server>", NULL },
        { "resolver", "<your DNS resolver>", NULL },
        { "qname", "<the name looked up>", NULL },
        { "local", "<your domain>", NULL },
        { "remote", "<the remote domain>", NULL },
        { "from", "<originating domain>", NULL },
        { "to", "<receiving domain>", NULL },
        { "condition", "<condition>", NULL },
        { "text", "<error text>", NULL },
        { "alert", "<alert>", NULL },
        { "n", "<count>", NULL },
        { "seconds", "<seconds>", NULL },
    };
    const char *local = v && v->server && *v->server ? v->server
                      : v && v->local && *v->local ? v->local : "your domain";
    for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
        if (strlen(what[i].name) == len && memcmp(what[i].name, name, len) == 0) {
            if (what[i].post)
                snprintf(out, outlen, "%s%s%s", what[i].pre, local, what[i].post);
            else
                snprintf(out, outlen, "%s", what[i].pre);
            return;
        }
    }
    snprintf(out, outlen, "<%.*s>", (int)(len < 64 ? len : 64), name);
}

size_t verdict_render(const char *tmpl, const struct verdict_vars *v, char *out, size_t outlen)
{
    size_t pos = 0;
    if (out == NULL || outlen == 0)
        return 0;
    if (tmpl == NULL)
        tmpl = "";
    const char *p = tmpl;
    while (*p) {
        if (*p == '{') {
            const char *q = p + 1;
            while (is_name_char(*q))
                q++;
            if (*q == '}' && q > p + 1) {
                const char *val = var_value(v, p + 1, (size_t)(q - p - 1));
                if (val == NULL || *val == '\0') {
                    /* not in the capture: say what to put there */
                    char what[STR_WHAT];
                    unknown_value(v, p + 1, (size_t)(q - p - 1), what, sizeof(what));
                    emit(out, outlen, &pos, what, strlen(what));
                } else {
                    emit(out, outlen, &pos, val, strlen(val));
                }
                p = q + 1;
                continue;
            }
            /* not a placeholder: the brace is plain text */
            emit(out, outlen, &pos, p, 1);
            p++;
            continue;
        }
        const char *q = p;
        while (*q && *q != '{')
            q++;
        emit(out, outlen, &pos, p, (size_t)(q - p));
        p = q;
    }
    out[pos] = '\0';
    return pos;
}
