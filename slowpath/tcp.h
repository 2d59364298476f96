/* tcp.h - the slow path's pure TCP pieces: connection states and their
 * transitions (RFC 9293 3.3.2), initial sequence numbers (RFC 6528), and
 * parsing/building the Ethernet+IPv4+TCP frames of handshakes and resets.
 *
 * No DPDK here: conn.c, listen.c and tcp_in.c/tcp_out.c use these on mbuf
 * data, and the unit tests use them on plain buffers.
 */
#ifndef SP_TCP_H
#define SP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

enum sp_tcp_state {
    SP_TCP_CLOSED = 0,
    SP_TCP_SYN_SENT,
    SP_TCP_SYN_RCVD,
    SP_TCP_ESTABLISHED,
    SP_TCP_FIN_WAIT_1,
    SP_TCP_FIN_WAIT_2,
    SP_TCP_CLOSING,
    SP_TCP_TIME_WAIT,
    SP_TCP_CLOSE_WAIT,
    SP_TCP_LAST_ACK,
    SP_TCP_N_STATES
};

enum sp_tcp_event {
    SP_TEV_ESTABLISH = 1, /* handshake completed */
    SP_TEV_CLOSE_WR,      /* we send FIN (close, shutdown(SHUT_WR)) */
    SP_TEV_FIN_RCVD,      /* the peer's FIN arrived in order */
    SP_TEV_FIN_ACKED,     /* our FIN was acknowledged */
    SP_TEV_RESET,         /* RST sent or received, abort, timeout */
    SP_TEV_TIMEOUT,       /* TIME_WAIT or orphan timer expired */
};

/* The state after ev in s, or -EINVAL if ev cannot happen in s. */
int sp_tcp_next_state(enum sp_tcp_state s, enum sp_tcp_event ev);
/* Does entering `to` from `from` require sending our FIN? */
bool sp_tcp_sends_fin(enum sp_tcp_state from, enum sp_tcp_state to);
/* States in which the flow is installed in the fast path. */
bool sp_tcp_synchronized(enum sp_tcp_state s);
const char *sp_tcp_state_name(enum sp_tcp_state s);

/* RFC 6528 initial sequence number: a 4-microsecond clock plus a keyed
 * hash (SipHash-2-4) of the connection's addresses.  Addresses and ports in
 * network order. */
uint32_t sp_tcp_isn(const uint8_t key[16], uint32_t lip, uint32_t rip, uint16_t lport,
                    uint16_t rport, uint64_t now_us);

/* Smallest window scale that lets a receive buffer of `bytes` be
 * advertised in full (RFC 7323 2.3: at most 14). */
uint8_t sp_tcp_wscale_for(uint32_t bytes);

/* A received TCP frame, parsed and length-checked. */
struct sp_pkt {
    const uint8_t *frame;
    const struct tas_eth_hdr *eth;
    const uint8_t *opts; /* TCP options */
    uint8_t opt_len;
    uint8_t flags;         /* TAS_TCP_* */
    uint32_t lip, rip;     /* local = destination; network order */
    uint16_t lport, rport; /* network order */
    uint32_t seq, ack;     /* host order */
    uint16_t win;          /* host order, unscaled */
    uint32_t payload_len;
    uint32_t seg_len; /* payload + SYN + FIN (sequence space) */
    uint8_t src_mac[6];
    uint8_t rx_core; /* the fast-path core it came from (sp_exc_input) */
};

/* Parse an Ethernet/IPv4/TCP frame.  0, or -EINVAL (short, not IPv4/TCP,
 * bad header lengths, fragment), or -EPROTONOSUPPORT (IPv4 but not TCP). */
int sp_frame_parse_tcp(const uint8_t *frame, size_t len, struct sp_pkt *p);

/* A segment to build. */
struct sp_seg {
    uint8_t src_mac[6], dst_mac[6];
    uint32_t lip, rip;     /* network order */
    uint16_t lport, rport; /* network order */
    uint32_t seq, ack;     /* host order */
    uint8_t flags;
    uint16_t win;        /* host order, already scaled */
    const uint8_t *opts; /* options, padded to a multiple of 4 */
    uint8_t opt_len;
};

/* Build the frame (IPv4: DF, TTL 64, ECN 0; checksums left 0 for
 * fp_tx_prepare_cksum).  Its length, or 0 if cap is too small or the
 * options are malformed. */
size_t sp_frame_build_tcp(uint8_t *buf, size_t cap, const struct sp_seg *s);

/* Fill the IPv4 header checksum and TCP checksum in software (tests and
 * tools; the daemon uses fp_tx_prepare_cksum). */
void sp_frame_cksum(uint8_t *frame, size_t len);


/* Turn an ICMP echo request to our_ip into its echo reply, in place.
 * Returns the reply's length, -ENOENT for other ICMP (not for us to
 * answer), -EINVAL for a malformed frame. */
int sp_icmp_echo_reply(uint8_t *frame, size_t len, uint32_t our_ip,
                       const uint8_t our_mac[6]);

#endif /* SP_TCP_H */
