/*
 * Benchmarks/srtp-bridge.sh's yardstick: what the system libsrtp2 (the one the server links)
 * costs per packet on its own, outside the server. One sender and one receiver context, both
 * AES_CM_128_HMAC_SHA1_80, a 20 ms G.711 packet (12-byte header, 160-byte payload); the CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) of COUNT srtp_protect calls and of COUNT srtp_unprotect calls of the
 * same packets, per packet; the same for AES_CM_128_HMAC_SHA1_32. Also reports which crypto
 * library libsrtp2 was built against (Debian 12's uses NSS).
 *
 * Build and run: cc -O2 -o /tmp/srtp-cost Benchmarks/srtp/srtp-cost.c -lsrtp2 && /tmp/srtp-cost [COUNT]
 */
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(srtp_err_status_t s, const char *what) {
    if (s != srtp_err_status_ok) { fprintf(stderr, "%s: error %d\n", what, (int)s); exit(1); }
}

static void run(const char *name, void (*set)(srtp_crypto_policy_t *), int count) {
    unsigned char key[30];
    for (int i = 0; i < 30; i++) key[i] = (unsigned char)(i * 7 + 3);
    srtp_policy_t tx, rx;
    memset(&tx, 0, sizeof tx); memset(&rx, 0, sizeof rx);
    set(&tx.rtp); set(&tx.rtcp); set(&rx.rtp); set(&rx.rtcp);
    tx.ssrc.type = ssrc_any_outbound; rx.ssrc.type = ssrc_any_inbound;
    tx.key = rx.key = key;
    tx.window_size = rx.window_size = 1024;
    srtp_t sender, receiver;
    check(srtp_create(&sender, &tx), "srtp_create");
    check(srtp_create(&receiver, &rx), "srtp_create");

    enum { header = 12, payload = 160, room = header + payload + SRTP_MAX_TRAILER_LEN };
    unsigned char *packets = malloc((size_t)count * room);
    int *lengths = malloc((size_t)count * sizeof(int));
    for (int i = 0; i < count; i++) {
        unsigned char *p = packets + (size_t)i * room;
        memset(p, 0xd5, header + payload);
        p[0] = 0x80; p[1] = 8;
        p[2] = (unsigned char)(i >> 8); p[3] = (unsigned char)i;
        uint32_t ts = (uint32_t)i * 160;
        p[4] = ts >> 24; p[5] = ts >> 16; p[6] = ts >> 8; p[7] = ts;
        p[8] = 0x13; p[9] = 0x80; p[10] = 0; p[11] = 2;
    }
    double t0 = now();
    for (int i = 0; i < count; i++) {
        lengths[i] = header + payload;
        check(srtp_protect(sender, packets + (size_t)i * room, &lengths[i]), "srtp_protect");
    }
    double t1 = now();
    for (int i = 0; i < count; i++)
        check(srtp_unprotect(receiver, packets + (size_t)i * room, &lengths[i]), "srtp_unprotect");
    double t2 = now();
    printf("%-24s protect %6.2f us per packet, unprotect %6.2f us per packet (%d packets of %d bytes)\n",
           name, 1e6 * (t1 - t0) / count, 1e6 * (t2 - t1) / count, count, header + payload);
    srtp_dealloc(sender); srtp_dealloc(receiver);
    free(packets); free(lengths);
}

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 60000;
    if (count < 1 || count > 65000) { fprintf(stderr, "COUNT: 1 to 65000 (one sequence-number cycle)\n"); return 2; }
    check(srtp_init(), "srtp_init");
    printf("%s\n", srtp_get_version_string());
    run("AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default, count); /* a macro for it */
    run("AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32, count);
    return 0;
}
