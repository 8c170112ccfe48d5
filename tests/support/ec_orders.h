/*
 * ec_orders.h - the group orders n of P-256, P-384 and P-521 (SEC 2),
 * big-endian and as wide as a JWS signature coordinate (RFC 7518 section
 * 3.4): the edge values of the ECDSA tests (test_ecdsa_der.c,
 * test_attacks.c). Written out here rather than taken from the code
 * under test.
 */
#ifndef EC_ORDERS_H
#define EC_ORDERS_H

extern const unsigned char cgt_n256[32];
extern const unsigned char cgt_n384[48];
extern const unsigned char cgt_n521[66];

#endif
