/* Helpers the crypto suite's tests share: vectors are typed in as hex in the
 * layout of their source, and keys are compared by value. */
#pragma once

#include <glib.h>
#include <nss.h>
#include <prerror.h>
#include <string.h>

#include "ike-crypto.h"

/* Hex to bytes; white space is skipped, anything else fails the test. */
static inline GBytes *
hex (const char *text)
{
  GByteArray *out = g_byte_array_new ();
  int high = -1;

  for (const char *p = text; *p != '\0'; p++)
    {
      int nibble;

      if (g_ascii_isspace (*p))
        continue;
      nibble = g_ascii_xdigit_value (*p);
      g_assert_cmpint (nibble, >=, 0);
      if (high < 0)
        {
          high = nibble;
          continue;
        }
      g_byte_array_append (out, (guint8[]){ (guint8) (high << 4 | nibble) }, 1);
      high = -1;
    }
  g_assert_cmpint (high, ==, -1);
  return g_byte_array_free_to_bytes (out);
}

static inline GBytes *
text_bytes (const char *text)
{
  return g_bytes_new_static (text, strlen (text));
}

#define assert_bytes(got, want)                                                                    \
  g_assert_cmpmem (g_bytes_get_data ((got), NULL), g_bytes_get_size (got),                         \
                   g_bytes_get_data ((want), NULL), g_bytes_get_size (want))

static inline PK11SymKey *
key_from_bytes (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  PK11SymKey *key
      = ike_symkey_from_bytes (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

static inline PK11SymKey *
key_from_hex (const char *text)
{
  g_autoptr (GBytes) bytes = hex (text);

  return key_from_bytes (bytes);
}

/* The key's value equals want, which may be given as a prefix of a longer
 * vector (offset, len select the part). */
static inline void
assert_key_part (PK11SymKey *key, GBytes *want, gsize offset, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeSecret) value = NULL;

  g_assert_nonnull (key);
  g_assert_cmpuint (offset + len, <=, g_bytes_get_size (want));
  value = ike_symkey_extract (key, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (value->data, value->len, (const guint8 *) g_bytes_get_data (want, NULL) + offset,
                   len);
}

static inline void
assert_key (PK11SymKey *key, GBytes *want)
{
  assert_key_part (key, want, 0, g_bytes_get_size (want));
}

static inline void
assert_key_hex (PK11SymKey *key, const char *want)
{
  g_autoptr (GBytes) bytes = hex (want);

  assert_key (key, bytes);
}

static inline void
crypto_test_init (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  g_test_init (argc, argv, NULL);
  g_assert_true (ike_crypto_init (&error));
  g_assert_no_error (error);
}

/* Runs the tests, then shuts NSS down: that fails while any key, context or
 * slot reference is still held, so it doubles as a leak check of NSS
 * objects, and it frees what NSS_NoDB_Init allocated (valgrind). */
static inline int
crypto_test_run (void)
{
  int status = g_test_run ();

  if (NSS_Shutdown () != SECSuccess)
    {
      g_printerr ("NSS_Shutdown failed: %s (an NSS object was leaked)\n",
                  PR_ErrorToName (PR_GetError ()));
      return 1;
    }
  return status;
}
