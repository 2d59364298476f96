/* proto.h - wire formats tasd speaks: Ethernet, ARP, IPv4, TCP and TCP
 * options.  Plain packed structs in network byte order, with no DPDK types,
 * so that classify.h, the slow path's frame builders, the unit tests and the
 * fuzzer build without DPDK.  The daemon's own (common/): the library needs
 * none of it, so it is not part of the ABI in include/tas/.
 */
#ifndef CM_PROTO_H
#define CM_PROTO_H

#include <assert.h>
#include <stdint.h>

#define TAS_ETH_ALEN 6
#define TAS_ETHERTYPE_IPV4 0x0800
#define TAS_ETHERTYPE_ARP 0x0806

struct tas_eth_hdr {
    uint8_t dst[TAS_ETH_ALEN];
    uint8_t src[TAS_ETH_ALEN];
    uint16_t type;
} __attribute__((packed));
static_assert(sizeof(struct tas_eth_hdr) == 14, "ethernet header");

#define TAS_ARP_HTYPE_ETH 1
#define TAS_ARP_OP_REQUEST 1
#define TAS_ARP_OP_REPLY 2
struct tas_arp_hdr {
    uint16_t htype;
    uint16_t ptype;
    uint8_t hlen;
    uint8_t plen;
    uint16_t op;
    uint8_t sha[TAS_ETH_ALEN];
    uint32_t spa;
    uint8_t tha[TAS_ETH_ALEN];
    uint32_t tpa;
} __attribute__((packed));
static_assert(sizeof(struct tas_arp_hdr) == 28, "arp header");

#define TAS_IPPROTO_ICMP 1
#define TAS_IPPROTO_TCP 6
#define TAS_IP_DF 0x4000
#define TAS_IP_MF 0x2000
#define TAS_IP_OFFMASK 0x1fff
struct tas_ip_hdr {
    uint8_t ver_ihl; /* version 4, header length in 32-bit words */
    uint8_t tos;     /* DSCP + ECN */
    uint16_t len;
    uint16_t id;
    uint16_t frag;
    uint8_t ttl;
    uint8_t proto;
    uint16_t cksum;
    uint32_t src;
    uint32_t dst;
} __attribute__((packed));
static_assert(sizeof(struct tas_ip_hdr) == 20, "ipv4 header");

#define TAS_TCP_FIN 0x01
#define TAS_TCP_SYN 0x02
#define TAS_TCP_RST 0x04
#define TAS_TCP_PSH 0x08
#define TAS_TCP_ACK 0x10
#define TAS_TCP_URG 0x20
#define TAS_TCP_ECE 0x40
#define TAS_TCP_CWR 0x80
struct tas_tcp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t off;   /* data offset in the high 4 bits */
    uint8_t flags; /* TAS_TCP_* */
    uint16_t win;
    uint16_t cksum;
    uint16_t urp;
} __attribute__((packed));
static_assert(sizeof(struct tas_tcp_hdr) == 20, "tcp header");

/* TCP option kinds and lengths (RFC 9293, 7323, 2018). */
#define TAS_TCPOPT_EOL 0
#define TAS_TCPOPT_NOP 1
#define TAS_TCPOPT_MSS 2
#define TAS_TCPOPT_WSCALE 3
#define TAS_TCPOPT_SACK_PERM 4
#define TAS_TCPOPT_SACK 5
#define TAS_TCPOPT_TS 8
#define TAS_TCPOLEN_MSS 4
#define TAS_TCPOLEN_WSCALE 3
#define TAS_TCPOLEN_SACK_PERM 2
#define TAS_TCPOLEN_TS 10
#define TAS_TCP_MAX_WSCALE 14
#define TAS_TCP_MAX_OPTLEN 40

#define TAS_FRAME_HDRS (sizeof(struct tas_eth_hdr) + sizeof(struct tas_ip_hdr) + \
                        sizeof(struct tas_tcp_hdr))

#endif /* CM_PROTO_H */
