/* frame.c - parse received Ethernet/IPv4/TCP frames and build the ones the
 * slow path sends (SYN, SYN-ACK, ACK, RST).  Plain buffers, no DPDK.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/cksum.h"
#include "slowpath/tcp.h"

int sp_frame_parse_tcp(const uint8_t *frame, size_t len, struct sp_pkt *p)
{
    struct tas_eth_hdr eth;
    struct tas_ip_hdr ip;
    struct tas_tcp_hdr tcp;

    if (len < sizeof(eth) + sizeof(ip))
        return -EINVAL;
    memcpy(&eth, frame, sizeof(eth));
    if (ntohs(eth.type) != TAS_ETHERTYPE_IPV4)
        return -EINVAL;
    memcpy(&ip, frame + sizeof(eth), sizeof(ip));
    size_t ihl = (size_t)(ip.ver_ihl & 0xf) * 4;
    size_t ip_len = ntohs(ip.len);
    if ((ip.ver_ihl >> 4) != 4 || ihl < sizeof(ip) || ip_len < ihl ||
        ip_len > len - sizeof(eth))
        return -EINVAL;
    if ((ntohs(ip.frag) & (TAS_IP_MF | TAS_IP_OFFMASK)) != 0)
        return -EINVAL;
    if (ip.proto != TAS_IPPROTO_TCP)
        return -EPROTONOSUPPORT;
    if (ip_len < ihl + sizeof(tcp))
        return -EINVAL;
    const uint8_t *th = frame + sizeof(eth) + ihl;
    memcpy(&tcp, th, sizeof(tcp));
    size_t thl = (size_t)(tcp.off >> 4) * 4;
    if (thl < sizeof(tcp) || ihl + thl > ip_len)
        return -EINVAL;

    memset(p, 0, sizeof(*p));
    p->frame = frame;
    p->eth = (const struct tas_eth_hdr *)frame;
    memcpy(p->src_mac, eth.src, 6);
    p->opts = th + sizeof(tcp);
    p->opt_len = (uint8_t)(thl - sizeof(tcp));
    p->flags = tcp.flags;
    p->lip = ip.dst;
    p->rip = ip.src;
    p->lport = tcp.dport;
    p->rport = tcp.sport;
    p->seq = ntohl(tcp.seq);
    p->ack = ntohl(tcp.ack);
    p->win = ntohs(tcp.win);
    p->payload_len = (uint32_t)(ip_len - ihl - thl);
    p->seg_len = p->payload_len + ((tcp.flags & TAS_TCP_SYN) ? 1 : 0) +
                 ((tcp.flags & TAS_TCP_FIN) ? 1 : 0);
    return 0;
}

size_t sp_frame_build_tcp(uint8_t *buf, size_t cap, const struct sp_seg *s)
{
    struct tas_eth_hdr eth;
    struct tas_ip_hdr ip;
    struct tas_tcp_hdr tcp;
    size_t len = TAS_FRAME_HDRS + s->opt_len;

    if (s->opt_len % 4 != 0 || s->opt_len > TAS_TCP_MAX_OPTLEN || cap < len)
        return 0;
    memcpy(eth.dst, s->dst_mac, 6);
    memcpy(eth.src, s->src_mac, 6);
    eth.type = htons(TAS_ETHERTYPE_IPV4);

    ip.ver_ihl = 0x45;
    ip.tos = 0;
    ip.len = htons((uint16_t)(len - sizeof(eth)));
    ip.id = 0;
    ip.frag = htons(TAS_IP_DF);
    ip.ttl = 64;
    ip.proto = TAS_IPPROTO_TCP;
    ip.cksum = 0;
    ip.src = s->lip;
    ip.dst = s->rip;

    tcp.sport = s->lport;
    tcp.dport = s->rport;
    tcp.seq = htonl(s->seq);
    tcp.ack = htonl((s->flags & TAS_TCP_ACK) ? s->ack : 0);
    tcp.off = (uint8_t)(((sizeof(tcp) + s->opt_len) / 4) << 4);
    tcp.flags = s->flags;
    tcp.win = htons(s->win);
    tcp.cksum = 0;
    tcp.urp = 0;

    memcpy(buf, &eth, sizeof(eth));
    memcpy(buf + sizeof(eth), &ip, sizeof(ip));
    memcpy(buf + sizeof(eth) + sizeof(ip), &tcp, sizeof(tcp));
    if (s->opt_len > 0)
        memcpy(buf + TAS_FRAME_HDRS, s->opts, s->opt_len);
    return len;
}

void sp_frame_cksum(uint8_t *frame, size_t len)
{
    uint8_t *iph = frame + sizeof(struct tas_eth_hdr);
    size_t ihl = (size_t)(iph[0] & 0xf) * 4;
    size_t ip_len = (size_t)(iph[2] << 8 | iph[3]);
    if (len < sizeof(struct tas_eth_hdr) + ip_len || ip_len < ihl + 20)
        return;
    memset(iph + 10, 0, 2);
    uint16_t c = cm_cksum(iph, ihl, 0);
    memcpy(iph + 10, &c, 2);

    uint8_t *th = iph + ihl;
    size_t tl = ip_len - ihl;
    memset(th + 16, 0, 2);
    c = cm_cksum(th, tl, cm_cksum_pseudo4(iph + 12, TAS_IPPROTO_TCP, (uint32_t)tl));
    memcpy(th + 16, &c, 2);
}
