/* Random numbers for nonces, SPIs and IVs, from NSS's DRBG and nowhere else,
 * so that one audited generator feeds every value an attacker must not guess. */
#include "ike-crypto-private.h"

#include <string.h>

/* RFC 7296 §3.9: nonces are 16 to 256 bytes. */
#define IKE_NONCE_MIN 16
#define IKE_NONCE_MAX 256

gboolean
ike_random_bytes (guint8 *buffer, gsize len, GError **error)
{
  if (!ike_crypto_init (error))
    return FALSE;
  /* PK11_GenerateRandom takes an int; ask in chunks rather than truncate. */
  while (len > 0)
    {
      int chunk = (int) MIN (len, (gsize) G_MAXINT);

      if (PK11_GenerateRandom (buffer, chunk) != SECSuccess)
        {
          ike_crypto_set_nss_error (error, "generating random bytes");
          return FALSE;
        }
      buffer += chunk;
      len -= (gsize) chunk;
    }
  return TRUE;
}

GBytes *
ike_random_nonce (gsize len, GError **error)
{
  g_autofree guint8 *nonce = NULL;

  if (len < IKE_NONCE_MIN || len > IKE_NONCE_MAX)
    {
      g_set_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INVALID,
                   "a nonce must be %d to %d bytes, not %" G_GSIZE_FORMAT, IKE_NONCE_MIN,
                   IKE_NONCE_MAX, len);
      return NULL;
    }
  nonce = g_malloc (len);
  if (!ike_random_bytes (nonce, len, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&nonce), len);
}

gboolean
ike_random_ike_spi (guint8 spi[8], GError **error)
{
  static const guint8 zero[8] = { 0 };

  /* A zero SPI means "not yet known" on the wire; redraw the 2^-64 case. */
  do
    {
      if (!ike_random_bytes (spi, 8, error))
        return FALSE;
    }
  while (memcmp (spi, zero, sizeof zero) == 0);
  return TRUE;
}
