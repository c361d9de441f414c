/* Malformed input: every length or count that does not fit is refused with
 * the right payload, byte offset and notify; unknown payloads are skipped
 * unless critical; encrypted-only payloads never parse in cleartext. */
#include <string.h>

#include "ike-samples.h"

typedef struct
{
  const char *name;
  guint8 first;
  const char *chain; /* hex, spaces ignored */
  IkeMsgError code;
  guint8 payload;
  gsize offset;
} BadChain;

static GByteArray *
from_hex (const char *hex)
{
  GByteArray *out = g_byte_array_new ();

  for (const char *p = hex; *p != '\0';)
    {
      guint8 b;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_true (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
      b = g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]);
      g_byte_array_append (out, &b, 1);
      p += 2;
    }
  return out;
}

/* A message with a valid header around @chain. */
static GBytes *
message (guint8 first, const guint8 *chain, gsize len)
{
  GByteArray *out = g_byte_array_new ();
  guint8 h[IKE_HEADER_LEN] = { 1,
                               2,
                               3,
                               4,
                               5,
                               6,
                               7,
                               8,
                               [16] = first,
                               [17] = IKE_VERSION,
                               [18] = IKE_EXCHANGE_SA_INIT,
                               [19] = IKE_FLAG_INITIATOR };
  guint32 total = IKE_HEADER_LEN + len;

  h[24] = total >> 24;
  h[25] = total >> 16;
  h[26] = total >> 8;
  h[27] = total;
  g_byte_array_append (out, h, sizeof h);
  if (len > 0)
    g_byte_array_append (out, chain, len);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
message_hex (guint8 first, const char *hex)
{
  g_autoptr (GByteArray) chain = from_hex (hex);

  return message (first, chain->data, chain->len);
}

static void
expect_msg_fault (GBytes *bytes, IkeMsgError code, guint8 payload, gsize offset)
{
  IkeMsgFault fault;
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsg) msg = NULL;

  memset (&fault, 0xa5, sizeof fault);
  msg = ike_msg_parse (bytes, &fault, &error);
  g_assert_null (msg);
  g_assert_error (error, IKE_MSG_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (fault.payload, ==, payload);
  g_assert_cmpuint (fault.offset, ==, offset);
  switch (code)
    {
    case IKE_MSG_ERROR_SYNTAX:
      g_assert_cmpuint (fault.notify, ==, IKE_N_INVALID_SYNTAX);
      break;
    case IKE_MSG_ERROR_CRITICAL:
      g_assert_cmpuint (fault.notify, ==, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
      g_assert_cmpuint (fault.notify_data, ==, payload);
      break;
    case IKE_MSG_ERROR_MAJOR_VERSION:
      g_assert_cmpuint (fault.notify, ==, IKE_N_INVALID_MAJOR_VERSION);
      break;
    default:
      g_assert_cmpuint (fault.notify, ==, 0);
    }
}

static void
expect_inner_fault (GBytes *bytes, guint8 first, IkeMsgError code, guint8 payload, gsize offset)
{
  IkeMsgFault fault;
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeInner) inner = NULL;

  memset (&fault, 0xa5, sizeof fault);
  inner = ike_inner_parse (bytes, first, &fault, &error);
  g_assert_null (inner);
  g_assert_error (error, IKE_MSG_ERROR, (gint) code);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (fault.payload, ==, payload);
  g_assert_cmpuint (fault.offset, ==, offset);
}

/* clang-format off */
static const BadChain bad_messages[] = {
  { "payload length < 4", IKE_PAYLOAD_NONCE, "00 00 00 03", IKE_MSG_ERROR_SYNTAX, 40, 28 },
  { "payload length past the end", IKE_PAYLOAD_NONCE, "00 00 00 30 0000000000000000 0000000000000000",
    IKE_MSG_ERROR_SYNTAX, 40, 28 },
  { "generic header cut", IKE_PAYLOAD_NONCE, "00 00", IKE_MSG_ERROR_SYNTAX, 40, 28 },
  { "bytes after the chain", IKE_PAYLOAD_NONCE, "00 00 00 14 00000000000000000000000000000000 ffff",
    IKE_MSG_ERROR_SYNTAX, 0, 48 },
  { "next payload missing", IKE_PAYLOAD_NONCE, "29 00 00 14 00000000000000000000000000000000",
    IKE_MSG_ERROR_SYNTAX, 41, 48 },
  { "unknown critical", 99, "00 80 00 04", IKE_MSG_ERROR_CRITICAL, 99, 28 },
  { "unknown critical after a known one", IKE_PAYLOAD_VENDOR, "d2 00 00 04 00 80 00 05 ff",
    IKE_MSG_ERROR_CRITICAL, 210, 32 },
  { "nonce 15 bytes", IKE_PAYLOAD_NONCE, "00 00 00 13 000000000000000000000000000000",
    IKE_MSG_ERROR_SYNTAX, 40, 32 },
  { "SK not last", IKE_PAYLOAD_SK, "00 00 00 08 01020304 00 00 00 04", IKE_MSG_ERROR_SYNTAX, 46, 28 },
  { "SKF not last", IKE_PAYLOAD_SKF, "00 00 00 08 00010001 00 00 00 04", IKE_MSG_ERROR_SYNTAX, 53, 28 },
  { "KE without data", IKE_PAYLOAD_KE, "00 00 00 08 001f 0000", IKE_MSG_ERROR_SYNTAX, 34, 32 },
  { "SA empty", IKE_PAYLOAD_SA, "00 00 00 04", IKE_MSG_ERROR_SYNTAX, 33, 32 },
  { "SA proposal past the payload", IKE_PAYLOAD_SA, "00 00 00 0c 00 00 00 10 01 01 00 00",
    IKE_MSG_ERROR_SYNTAX, 33, 32 },
  { "SA last proposal marked 'more'", IKE_PAYLOAD_SA, "00 00 00 0c 02 00 00 08 01 01 00 00",
    IKE_MSG_ERROR_SYNTAX, 33, 32 },
  { "SA proposal marked 'last' with more", IKE_PAYLOAD_SA,
    "00 00 00 14 00 00 00 08 01 01 00 00 00 00 00 08 02 01 00 00", IKE_MSG_ERROR_SYNTAX, 33, 32 },
  { "SA SPI of 9 bytes", IKE_PAYLOAD_SA, "00 00 00 15 00 00 00 11 01 03 09 00 010203040506070809",
    IKE_MSG_ERROR_SYNTAX, 33, 38 },
  { "SA 33 transforms", IKE_PAYLOAD_SA, "00 00 00 0c 00 00 00 08 01 01 00 21",
    IKE_MSG_ERROR_SYNTAX, 33, 39 },
  { "SA transform past the proposal", IKE_PAYLOAD_SA,
    "00 00 00 14 00 00 00 10 01 01 00 01 00 00 00 0c 01 00 00 14", IKE_MSG_ERROR_SYNTAX, 33, 40 },
  { "SA last transform marked 'more'", IKE_PAYLOAD_SA,
    "00 00 00 14 00 00 00 10 01 01 00 01 03 00 00 08 01 00 00 14", IKE_MSG_ERROR_SYNTAX, 33, 40 },
  { "SA transform length < 8", IKE_PAYLOAD_SA,
    "00 00 00 14 00 00 00 10 01 01 00 01 00 00 00 04 01 00 00 14", IKE_MSG_ERROR_SYNTAX, 33, 40 },
  { "SA attribute past the transform", IKE_PAYLOAD_SA,
    "00 00 00 18 00 00 00 14 01 01 00 01 00 00 00 0c 01 00 00 14 000e 000a",
    IKE_MSG_ERROR_SYNTAX, 33, 48 },
  { "SA attribute header cut", IKE_PAYLOAD_SA,
    "00 00 00 16 00 00 00 12 01 01 00 01 00 00 00 0a 01 00 00 14 800e", IKE_MSG_ERROR_SYNTAX, 33, 48 },
  { "SA fewer transforms than counted", IKE_PAYLOAD_SA,
    "00 00 00 14 00 00 00 10 01 01 00 02 03 00 00 08 01 00 00 14", IKE_MSG_ERROR_SYNTAX, 33, 48 },
  { "SA bytes after the transforms", IKE_PAYLOAD_SA,
    "00 00 00 18 00 00 00 14 01 01 00 01 00 00 00 08 01 00 00 14 00000000",
    IKE_MSG_ERROR_SYNTAX, 33, 48 },
  { "notify SPI past the payload", IKE_PAYLOAD_NOTIFY, "00 00 00 08 03 04 4000",
    IKE_MSG_ERROR_SYNTAX, 41, 33 },
  { "NAT-D of 19 bytes", IKE_PAYLOAD_NOTIFY, "00 00 00 1b 00 00 4004 00000000000000000000000000000000000000",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "COOKIE empty", IKE_PAYLOAD_NOTIFY, "00 00 00 08 00 00 4006", IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "INVALID_KE_PAYLOAD of 3 bytes", IKE_PAYLOAD_NOTIFY, "00 00 00 0b 00 00 0011 001300",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "SIGNATURE_HASH_ALGORITHMS odd", IKE_PAYLOAD_NOTIFY, "00 00 00 0b 00 00 402f 000200",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "SIGNATURE_HASH_ALGORITHMS empty", IKE_PAYLOAD_NOTIFY, "00 00 00 08 00 00 402f",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "FRAGMENTATION_SUPPORTED with data", IKE_PAYLOAD_NOTIFY, "00 00 00 09 00 00 402e 01",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "REDIRECT gateway past the data", IKE_PAYLOAD_NOTIFY, "00 00 00 0c 00 00 4017 01 09 c000",
    IKE_MSG_ERROR_SYNTAX, 41, 37 },
  { "REDIRECT IPv4 gateway of 5 bytes", IKE_PAYLOAD_NOTIFY, "00 00 00 0f 00 00 4017 01 05 c000020102",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "REDIRECT FQDN gateway empty", IKE_PAYLOAD_NOTIFY, "00 00 00 0a 00 00 4017 03 00",
    IKE_MSG_ERROR_SYNTAX, 41, 36 },
  { "REDIRECTED_FROM with bytes after", IKE_PAYLOAD_NOTIFY, "00 00 00 0f 00 00 4018 01 04 c0000201 ff",
    IKE_MSG_ERROR_SYNTAX, 41, 42 },
  { "SKF fragment 0", IKE_PAYLOAD_SKF, "00 00 00 08 0000 0001", IKE_MSG_ERROR_SYNTAX, 53, 32 },
  { "SKF fragment 3 of 2", IKE_PAYLOAD_SKF, "00 00 00 08 0003 0002", IKE_MSG_ERROR_SYNTAX, 53, 32 },
  { "SKF total 0", IKE_PAYLOAD_SKF, "00 00 00 08 0001 0000", IKE_MSG_ERROR_SYNTAX, 53, 32 },
};

static const BadChain bad_inner[] = {
  { "IPv4 ID of 3 bytes", IKE_PAYLOAD_IDI, "00 00 00 0b 01 000000 c00002", IKE_MSG_ERROR_SYNTAX, 35, 8 },
  { "IPv6 ID of 4 bytes", IKE_PAYLOAD_IDR, "00 00 00 0c 05 000000 20010db8", IKE_MSG_ERROR_SYNTAX, 36, 8 },
  { "FQDN ID empty", IKE_PAYLOAD_IDI, "00 00 00 08 02 000000", IKE_MSG_ERROR_SYNTAX, 35, 8 },
  { "AUTH without data", IKE_PAYLOAD_AUTH, "00 00 00 08 02 000000", IKE_MSG_ERROR_SYNTAX, 39, 4 },
  { "CERT without data", IKE_PAYLOAD_CERT, "00 00 00 05 04", IKE_MSG_ERROR_SYNTAX, 37, 4 },
  { "Delete count × size ≠ body", IKE_PAYLOAD_DELETE, "00 00 00 0d 03 04 0002 0102030405",
    IKE_MSG_ERROR_SYNTAX, 42, 6 },
  { "Delete IKE with an SPI", IKE_PAYLOAD_DELETE, "00 00 00 0c 01 04 0001 01020304",
    IKE_MSG_ERROR_SYNTAX, 42, 5 },
  { "Delete ESP with 8-byte SPIs", IKE_PAYLOAD_DELETE, "00 00 00 10 03 08 0001 0102030405060708",
    IKE_MSG_ERROR_SYNTAX, 42, 5 },
  { "Delete unknown protocol", IKE_PAYLOAD_DELETE, "00 00 00 08 07 00 0000", IKE_MSG_ERROR_SYNTAX, 42, 4 },
  { "TS count 0", IKE_PAYLOAD_TSI, "00 00 00 0c 00 000000 07000004", IKE_MSG_ERROR_SYNTAX, 44, 4 },
  { "TS IPv4 selector of 20 bytes", IKE_PAYLOAD_TSR,
    "00 00 00 1c 01 000000 07 00 0014 0000ffff 0a000001 0a000002 00000000", IKE_MSG_ERROR_SYNTAX, 45, 8 },
  { "TS ports 443-80", IKE_PAYLOAD_TSI, "00 00 00 18 01 000000 07 06 0010 01bb 0050 0a000001 0a000001",
    IKE_MSG_ERROR_SYNTAX, 44, 12 },
  { "TS addresses backwards", IKE_PAYLOAD_TSI, "00 00 00 18 01 000000 07 00 0010 0000 ffff 0a000002 0a000001",
    IKE_MSG_ERROR_SYNTAX, 44, 16 },
  { "TS IPv6 addresses backwards", IKE_PAYLOAD_TSI,
    "00 00 00 30 01 000000 08 00 0028 0000 ffff 20010db8000000000000000000000002 20010db8000000000000000000000001",
    IKE_MSG_ERROR_SYNTAX, 44, 16 },
  { "TS bytes after the selectors", IKE_PAYLOAD_TSI,
    "00 00 00 1c 01 000000 07 00 0010 0000 ffff 0a000001 0a000002 00000000", IKE_MSG_ERROR_SYNTAX, 44, 24 },
  { "TS fewer selectors than counted", IKE_PAYLOAD_TSI,
    "00 00 00 18 02 000000 07 00 0010 0000 ffff 0a000001 0a000002", IKE_MSG_ERROR_SYNTAX, 44, 24 },
  { "TS selector length < 4", IKE_PAYLOAD_TSI, "00 00 00 0c 01 000000 0a 00 0002", IKE_MSG_ERROR_SYNTAX, 44, 8 },
  { "CP attribute past the payload", IKE_PAYLOAD_CP, "00 00 00 0c 01 000000 0001 0004",
    IKE_MSG_ERROR_SYNTAX, 47, 8 },
  { "CP attribute header cut", IKE_PAYLOAD_CP, "00 00 00 0a 01 000000 0001", IKE_MSG_ERROR_SYNTAX, 47, 8 },
  { "CP IPv4 address of 3 bytes", IKE_PAYLOAD_CP, "00 00 00 0f 02 000000 0001 0003 0a0000",
    IKE_MSG_ERROR_SYNTAX, 47, 8 },
  { "CP IPv6 address of 16 bytes", IKE_PAYLOAD_CP,
    "00 00 00 1c 02 000000 0008 0010 20010db8000000000000000000000001", IKE_MSG_ERROR_SYNTAX, 47, 8 },
  { "CP supported attributes odd", IKE_PAYLOAD_CP, "00 00 00 0f 02 000000 000e 0003 000100",
    IKE_MSG_ERROR_SYNTAX, 47, 8 },
  { "EAP length ≠ body", IKE_PAYLOAD_EAP, "00 00 00 09 01 01 0006 01", IKE_MSG_ERROR_SYNTAX, 48, 6 },
  { "EAP success with data", IKE_PAYLOAD_EAP, "00 00 00 09 03 01 0005 00", IKE_MSG_ERROR_SYNTAX, 48, 4 },
  { "EAP request without type", IKE_PAYLOAD_EAP, "00 00 00 08 01 01 0004", IKE_MSG_ERROR_SYNTAX, 48, 4 },
  { "SK inside SK", IKE_PAYLOAD_SK, "00 00 00 04", IKE_MSG_ERROR_SYNTAX, 46, 0 },
  { "SKF inside SK", IKE_PAYLOAD_SKF, "00 00 00 08 0001 0001", IKE_MSG_ERROR_SYNTAX, 53, 0 },
  { "unknown critical", 150, "00 80 00 04", IKE_MSG_ERROR_CRITICAL, 150, 0 },
  { "first payload named, none there", IKE_PAYLOAD_NONCE, "", IKE_MSG_ERROR_SYNTAX, 40, 0 },
};
/* clang-format on */

static void
test_bad_message (gconstpointer data)
{
  const BadChain *c = data;
  g_autoptr (GBytes) bytes = message_hex (c->first, c->chain);

  expect_msg_fault (bytes, c->code, c->payload, c->offset);
}

static void
test_bad_inner (gconstpointer data)
{
  const BadChain *c = data;
  g_autoptr (GByteArray) chain = from_hex (c->chain);
  g_autoptr (GBytes) bytes = g_bytes_new (chain->data, chain->len);

  expect_inner_fault (bytes, c->first, c->code, c->payload, c->offset);
}

/* ---- Header ---- */

static GBytes *
header_with (guint8 version, gsize datagram_len, guint32 length_field)
{
  g_autofree guint8 *d = g_malloc0 (datagram_len);

  if (datagram_len >= IKE_HEADER_LEN)
    {
      d[0] = 1;
      d[17] = version;
      d[24] = length_field >> 24;
      d[25] = length_field >> 16;
      d[26] = length_field >> 8;
      d[27] = length_field;
    }
  return g_bytes_new (d, datagram_len);
}

static void
test_header_errors (void)
{
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) short_ = header_with (IKE_VERSION, IKE_HEADER_LEN - 1, 0);
  g_autoptr (GBytes) ikev1 = header_with (0x10, IKE_HEADER_LEN, IKE_HEADER_LEN);
  g_autoptr (GBytes) v3 = header_with (0x30, IKE_HEADER_LEN, IKE_HEADER_LEN);
  g_autoptr (GBytes) too_long = header_with (IKE_VERSION, IKE_HEADER_LEN, IKE_HEADER_LEN + 1);
  g_autoptr (GBytes) too_short = header_with (IKE_VERSION, 40, 36);
  g_autoptr (GBytes) huge = header_with (IKE_VERSION, IKE_MSG_MAX_LEN + 1, IKE_MSG_MAX_LEN + 1);

  expect_msg_fault (empty, IKE_MSG_ERROR_DROP, 0, 0);
  expect_msg_fault (short_, IKE_MSG_ERROR_DROP, 0, 0);
  expect_msg_fault (ikev1, IKE_MSG_ERROR_DROP, 0, 17);
  expect_msg_fault (v3, IKE_MSG_ERROR_MAJOR_VERSION, 0, 17);
  expect_msg_fault (too_long, IKE_MSG_ERROR_SYNTAX, 0, 24);
  expect_msg_fault (too_short, IKE_MSG_ERROR_SYNTAX, 0, 24);
  expect_msg_fault (huge, IKE_MSG_ERROR_DROP, 0, 0);
}

/* The engine answers a fault with the header's SPIs and message ID, so the
 * header is read even when the rest is refused. */
static void
test_header_filled_on_fault (void)
{
  g_autoptr (GBytes) v3 = header_with (0x30, IKE_HEADER_LEN, IKE_HEADER_LEN);
  IkeHeader h = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_false (ike_header_parse (g_bytes_get_data (v3, NULL), IKE_HEADER_LEN, &h, NULL, &error));
  g_assert_error (error, IKE_MSG_ERROR, IKE_MSG_ERROR_MAJOR_VERSION);
  g_assert_cmphex (h.spi_i, ==, G_GUINT64_CONSTANT (0x0100000000000000));
  g_assert_cmphex (h.version, ==, 0x30);
}

static void
test_header_lenient (void)
{
  g_autoptr (GBytes) minor = header_with (0x21, IKE_HEADER_LEN, IKE_HEADER_LEN);
  g_autoptr (GByteArray) flags = g_byte_array_new ();
  g_autoptr (GBytes) flags_bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsg) msg_minor = ike_msg_parse (minor, NULL, &error);
  g_autoptr (IkeMsg) msg_flags = NULL;

  /* RFC 7296 §3.1: a higher minor version and unknown flag bits are ignored. */
  g_assert_no_error (error);
  g_assert_cmpuint (ike_msg_get_n_payloads (msg_minor), ==, 0);
  g_byte_array_append (flags, g_bytes_get_data (minor, NULL), IKE_HEADER_LEN);
  flags->data[19] = 0xff;
  flags_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&flags));
  msg_flags = ike_msg_parse (flags_bytes, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmphex (ike_msg_get_header (msg_flags)->flags, ==,
                   IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE | IKE_FLAG_VERSION);
}

/* ---- Encrypted-only payloads ---- */

/* Each payload that must be encrypted, valid inside SK, is refused outside. */
static void
test_encrypted_only (void)
{
  g_autoptr (GPtrArray) samples = ike_samples_inner ();
  guint refused = 0;

  for (guint i = 0; i < samples->len; i++)
    {
      IkeSample *s = g_ptr_array_index (samples, i);
      g_autoptr (GBytes) clear = ike_sample_clear_message (s);
      g_autoptr (IkeInner) inner = ike_inner_parse (s->bytes, s->first, NULL, NULL);
      const IkePayload *bad = NULL;

      g_assert_nonnull (inner);
      for (guint p = 0; p < ike_inner_get_n_payloads (inner) && bad == NULL; p++)
        {
          const IkePayload *payload = ike_inner_get_payload (inner, p);

          if (!payload->skipped && !ike_payload_type_is_cleartext (payload->type))
            bad = payload;
        }
      if (bad == NULL)
        continue;
      expect_msg_fault (clear, IKE_MSG_ERROR_SYNTAX, bad->type, IKE_HEADER_LEN + bad->offset);
      refused++;
    }
  g_assert_cmpuint (refused, >=, 8);
}

static void
test_encrypted_only_types (void)
{
  static const guint8 encrypted[]
      = { IKE_PAYLOAD_IDI, IKE_PAYLOAD_IDR, IKE_PAYLOAD_CERT, IKE_PAYLOAD_AUTH, IKE_PAYLOAD_DELETE,
          IKE_PAYLOAD_TSI, IKE_PAYLOAD_TSR, IKE_PAYLOAD_CP,   IKE_PAYLOAD_EAP };
  static const guint8 clear[]
      = { IKE_PAYLOAD_SA,     IKE_PAYLOAD_KE,      IKE_PAYLOAD_NONCE, IKE_PAYLOAD_NOTIFY,
          IKE_PAYLOAD_VENDOR, IKE_PAYLOAD_CERTREQ, IKE_PAYLOAD_SK,    IKE_PAYLOAD_SKF };

  for (gsize i = 0; i < G_N_ELEMENTS (encrypted); i++)
    g_assert_false (ike_payload_type_is_cleartext (encrypted[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (clear); i++)
    g_assert_true (ike_payload_type_is_cleartext (clear[i]));
  g_assert_false (ike_payload_type_is_cleartext (99));
}

/* Asking a cleartext message for an encrypted-only payload is a bug. */
static void
test_find_encrypted_in_msg (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GPtrArray) samples = ike_samples_messages ();
      IkeSample *s = g_ptr_array_index (samples, 0);
      g_autoptr (IkeMsg) msg = ike_msg_parse (s->bytes, NULL, NULL);

      ike_msg_find (msg, IKE_PAYLOAD_AUTH);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*ike_payload_type_is_cleartext*");
}

/* ---- Caps ---- */

static GBytes *
repeated (guint8 first, const char *head, const char *unit, guint n, gboolean set_length)
{
  g_autoptr (GByteArray) h = from_hex (head);
  g_autoptr (GByteArray) u = from_hex (unit);
  g_autoptr (GByteArray) chain = g_byte_array_new ();

  g_byte_array_append (chain, h->data, h->len);
  for (guint i = 0; i < n; i++)
    g_byte_array_append (chain, u->data, u->len);
  if (set_length)
    {
      chain->data[2] = chain->len >> 8;
      chain->data[3] = chain->len & 0xff;
    }
  return message (first, chain->data, chain->len);
}

static void
test_too_many (void)
{
  /* 17 proposals of 8 bytes: all but the last say "more". */
  g_autoptr (GBytes) sa = repeated (IKE_PAYLOAD_SA, "00 00 00 00", "02 00 00 08 01 01 00 00",
                                    IKE_MAX_PROPOSALS + 1, TRUE);
  g_autoptr (GBytes) payloads
      = repeated (IKE_PAYLOAD_VENDOR, "", "2b 00 00 04", IKE_MSG_MAX_PAYLOADS + 1, FALSE);
  g_autoptr (GByteArray) cp = from_hex ("00 00 00 00 01 000000");
  g_autoptr (GBytes) cp_bytes = NULL;

  expect_msg_fault (sa, IKE_MSG_ERROR_SYNTAX, IKE_PAYLOAD_SA, 32 + 8 * IKE_MAX_PROPOSALS);
  expect_msg_fault (payloads, IKE_MSG_ERROR_SYNTAX, IKE_PAYLOAD_VENDOR,
                    IKE_HEADER_LEN + 4 * IKE_MSG_MAX_PAYLOADS);
  for (guint i = 0; i <= IKE_MAX_CFG_ATTRS; i++)
    g_byte_array_append (cp, (const guint8 *) "\x00\x03\x00\x00", 4);
  cp->data[2] = cp->len >> 8;
  cp->data[3] = cp->len & 0xff;
  cp_bytes = g_bytes_new (cp->data, cp->len);
  expect_inner_fault (cp_bytes, IKE_PAYLOAD_CP, IKE_MSG_ERROR_SYNTAX, IKE_PAYLOAD_CP,
                      8 + 4 * IKE_MAX_CFG_ATTRS);
}

static void
test_long_fields (void)
{
  g_autoptr (GBytes) nonce
      = repeated (IKE_PAYLOAD_NONCE, "00 00 00 00", "ab", IKE_NONCE_MAX_LEN + 1, TRUE);
  g_autoptr (GBytes) cookie = repeated (IKE_PAYLOAD_NOTIFY, "00 00 00 00 00 00 40 06", "cd",
                                        IKE_COOKIE_MAX_LEN + 1, TRUE);
  g_autoptr (GBytes) plain
      = g_bytes_new_take (g_malloc0 (IKE_MSG_MAX_LEN + 1), IKE_MSG_MAX_LEN + 1);

  expect_msg_fault (nonce, IKE_MSG_ERROR_SYNTAX, IKE_PAYLOAD_NONCE, 32);
  expect_msg_fault (cookie, IKE_MSG_ERROR_SYNTAX, IKE_PAYLOAD_NOTIFY, 36);
  expect_inner_fault (plain, 0, IKE_MSG_ERROR_SYNTAX, 0, 0);
}

/* ---- What parses ---- */

static IkeMsg *
parse_ok (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  IkeMsg *msg = ike_msg_parse (bytes, NULL, &error);

  g_assert_no_error (error);
  return msg;
}

static void
test_unknown_skipped (void)
{
  g_autoptr (GBytes) bytes
      = message_hex (150, "28 00 00 06 aabb 00 00 00 14 00112233445566778899aabbccddeeff");
  g_autoptr (IkeMsg) msg = parse_ok (bytes);
  g_autofree char *text = ike_msg_describe (msg);
  const IkePayload *skipped = ike_msg_get_payload (msg, 0);

  g_assert_cmpuint (ike_msg_get_n_payloads (msg), ==, 2);
  g_assert_true (skipped->skipped);
  g_assert_cmpuint (skipped->type, ==, 150);
  g_assert_cmpmem (skipped->u.raw.data, skipped->u.raw.len, "\xaa\xbb", 2);
  g_assert_nonnull (ike_msg_find (msg, IKE_PAYLOAD_NONCE));
  g_assert_cmpstr (text, ==, "IKE_SA_INIT request #0 [ UNKNOWN(150) No ]");
}

/* RFC 7296 §3.3.6: a transform with an attribute we do not know is refused
 * (left out); its siblings stay. */
static void
test_unknown_attribute (void)
{
  g_autoptr (GBytes) bytes
      = message_hex (IKE_PAYLOAD_SA, "00 00 00 40 00 00 00 3c 01 01 00 04"
                                     "03 00 00 0c 01 00 0014 800f 0001" /* unknown TV */
                                     "03 00 00 0c 01 00 000c 000e 0000" /* Key Length as TLV */
                                     "03 00 00 10 01 00 000c 800e 0080 800e 0100" /* twice */
                                     "00 00 00 0c 01 00 000c 800e 0100");         /* good */
  g_autoptr (IkeMsg) msg = parse_ok (bytes);
  const IkePayloadSa *sa = &ike_msg_find (msg, IKE_PAYLOAD_SA)->u.sa;

  g_assert_cmpuint (sa->n_proposals, ==, 1);
  g_assert_cmpuint (sa->proposals[0].n_transforms, ==, 1);
  g_assert_cmpuint (sa->proposals[0].transforms[0].id, ==, IKE_ENCR_AES_CBC);
  g_assert_cmpuint (sa->proposals[0].transforms[0].key_length, ==, 256);
}

static void
test_empty_inner (void)
{
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeInner) inner = ike_inner_parse (empty, IKE_PAYLOAD_NONE, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ike_inner_get_n_payloads (inner), ==, 0);
}

static void
test_error_text (void)
{
  g_autoptr (GBytes) bytes = message_hex (IKE_PAYLOAD_NONCE, "00 00 00 08 00000000");
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeMsg) msg = ike_msg_parse (bytes, NULL, &error);

  g_assert_null (msg);
  g_assert_cmpstr (error->message, ==,
                   "NONCE payload #0 at offset 32: body of 4 bytes, at least 16 needed");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_messages); i++)
    {
      g_autofree char *path
          = g_strdup_printf ("/ike-codec/errors/message/%s", bad_messages[i].name);

      g_test_add_data_func (path, &bad_messages[i], test_bad_message);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_inner); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ike-codec/errors/inner/%s", bad_inner[i].name);

      g_test_add_data_func (path, &bad_inner[i], test_bad_inner);
    }
  g_test_add_func ("/ike-codec/errors/header", test_header_errors);
  g_test_add_func ("/ike-codec/errors/header-filled-on-fault", test_header_filled_on_fault);
  g_test_add_func ("/ike-codec/errors/header-lenient", test_header_lenient);
  g_test_add_func ("/ike-codec/errors/encrypted-only", test_encrypted_only);
  g_test_add_func ("/ike-codec/errors/encrypted-only-types", test_encrypted_only_types);
  g_test_add_func ("/ike-codec/errors/find-encrypted-in-msg", test_find_encrypted_in_msg);
  g_test_add_func ("/ike-codec/errors/too-many", test_too_many);
  g_test_add_func ("/ike-codec/errors/long-fields", test_long_fields);
  g_test_add_func ("/ike-codec/errors/unknown-skipped", test_unknown_skipped);
  g_test_add_func ("/ike-codec/errors/unknown-attribute", test_unknown_attribute);
  g_test_add_func ("/ike-codec/errors/empty-inner", test_empty_inner);
  g_test_add_func ("/ike-codec/errors/error-text", test_error_text);
  return g_test_run ();
}
