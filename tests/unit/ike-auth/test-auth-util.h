/* Helpers shared by the ike-auth tests: NSS set-up, hex, keys. */
#pragma once

#include <glib.h>
#include <keyhi.h>

#include "ike-sign.h"

void test_nss_init (void);
/* Frees the test keys, then shuts NSS down, which fails if a test leaked
 * an NSS object (a key, a slot reference). */
void test_nss_shutdown (void);

/* Bytes from hex digits; whitespace is skipped, so RFC dumps paste as is. */
GBytes *test_hex (const char *text);
void test_assert_bytes_equal (GBytes *got, GBytes *want);
/* A copy of BYTES with one bit flipped, at byte AT modulo the length. */
GBytes *test_flip_bit (GBytes *bytes, gsize at);

gboolean test_verify_str (SECKEYPublicKey *key, IkeSignScheme scheme, IkeSignEncoding encoding,
                          const char *msg, GBytes *sig, GError **error);

typedef enum
{
  TEST_KEY_RSA2048,
  TEST_KEY_RSA3072,
  TEST_KEY_P256,
  TEST_KEY_P384,
  TEST_KEY_P521,
  TEST_N_KEYS,
} TestKeyIndex;

typedef struct
{
  const char *name;
  SECKEYPrivateKey *priv;
  SECKEYPublicKey *pub;
} TestKey;

/* Generated on first use, then kept for the whole test program. */
TestKey *test_key (TestKeyIndex index);
