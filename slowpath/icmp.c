/* icmp.c - answering ping: an ICMP echo request to our address becomes an
 * echo reply, rewritten in place in the received frame (RFC 792).  Other
 * ICMP (errors such as "fragmentation needed") is not acted upon yet.
 * Pure C on a buffer; tcp_in.c sends the result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/cksum.h"
#include "slowpath/tcp.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8

int sp_icmp_echo_reply(uint8_t *frame, size_t len, uint32_t our_ip,
                       const uint8_t our_mac[6])
{
    struct tas_eth_hdr eth;
    struct tas_ip_hdr ip;

    if (len < sizeof(eth) + sizeof(ip) + 8)
        return -EINVAL;
    memcpy(&eth, frame, sizeof(eth));
    memcpy(&ip, frame + sizeof(eth), sizeof(ip));
    size_t ihl = (size_t)(ip.ver_ihl & 0xf) * 4;
    size_t ip_len = ntohs(ip.len);
    if (ntohs(eth.type) != TAS_ETHERTYPE_IPV4 || (ip.ver_ihl >> 4) != 4 ||
        ihl < sizeof(ip) || ip_len < ihl + 8 || ip_len > len - sizeof(eth) ||
        ip.proto != TAS_IPPROTO_ICMP || (ntohs(ip.frag) & (TAS_IP_MF | TAS_IP_OFFMASK)))
        return -EINVAL;
    uint8_t *icmp = frame + sizeof(eth) + ihl;
    size_t icmp_len = ip_len - ihl;
    if (icmp[0] != ICMP_ECHO_REQUEST || icmp[1] != 0 || ip.dst != our_ip)
        return -ENOENT;
    if (cm_cksum(icmp, icmp_len, 0) != 0)
        return -EINVAL;

    memcpy(eth.dst, eth.src, 6);
    memcpy(eth.src, our_mac, 6);
    memcpy(frame, &eth, sizeof(eth));
    ip.dst = ip.src;
    ip.src = our_ip;
    ip.ttl = 64;
    ip.cksum = 0;
    memcpy(frame + sizeof(eth), &ip, sizeof(ip));
    uint16_t c = cm_cksum(frame + sizeof(eth), ihl, 0);
    memcpy(frame + sizeof(eth) + 10, &c, 2);
    icmp[0] = ICMP_ECHO_REPLY;
    icmp[2] = icmp[3] = 0;
    c = cm_cksum(icmp, icmp_len, 0);
    memcpy(icmp + 2, &c, 2);
    return (int)(sizeof(eth) + ip_len);
}
