/* Golden packets: IKEv2 messages captured on the wire between strongSwan and
 * libreswan, with the keys strongSwan logged, in tests/data/golden/ (written
 * by tests/interop/capture-golden.py, described by one <scenario>.json each).
 * Every message and every IKE SA is checked against our codec and crypto
 * suite:
 *
 *   parse    each <scenario>-<nn>-<exchange>-<role>-<sender>.bin parses; its
 *            header agrees with its file name and with the JSON (exchange,
 *            flags, message ID, SPIs); ike_msg_to_bytes() gives back exactly
 *            the captured bytes; IKE_SA_INIT carries the logged nonces and
 *            the chosen proposal the logged algorithms
 *   decrypt  the SK payload (every SKF fragment of a message) opens with the
 *            logged keys of its IKE SA in the sender's direction, and not
 *            with the other direction's; the content parses, builds back to
 *            the same bytes, holds the payload types the capture tool saw and
 *            those RFC 7296 asks for in that exchange; an IKE rekey carries
 *            the new IKE SA's SPIs, nonces and algorithms
 *   keys     from the logged g^ir, Ni, Nr and SPIs, ike_skeyseed() (for a
 *            rekeyed IKE SA ike_skeyseed_rekey() with the old SK_d) and
 *            ike_sa_keys_derive() give exactly the logged SKEYSEED and SK_*
 *   auth     both AUTH payloads of IKE_AUTH are the PSK MICs we compute
 *
 * The data is loaded by golden-data.c. */
#include <string.h>

#include "golden-data.h"

#ifndef IKE_GOLDEN_DIR
#error "IKE_GOLDEN_DIR must name tests/data/golden"
#endif

/* ---- Helpers ---- */

static GoldenSa *
msg_sa (const GoldenMsg *msg)
{
  return g_ptr_array_index (msg->scenario->sas, msg->sa);
}

static PK11SymKey *
symkey (GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  PK11SymKey *key = ike_symkey_from_bytes (data, len, &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

static void
assert_key (PK11SymKey *key, GBytes *logged, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (IkeSecret) secret = NULL;

  if (g_bytes_get_size (logged) == 0)
    {
      g_assert_null (key);
      return;
    }
  g_assert_nonnull (key);
  secret = ike_symkey_extract (key, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %zu bytes", name, secret->len);
  g_assert_cmpmem (secret->data, secret->len, g_bytes_get_data (logged, NULL),
                   g_bytes_get_size (logged));
}

static void
assert_slice (IkeSlice slice, GBytes *expected)
{
  g_assert_cmpmem (slice.data, slice.len, g_bytes_get_data (expected, NULL),
                   g_bytes_get_size (expected));
}

static guint64
spi_value (const guint8 spi[8])
{
  guint64 value = 0;

  for (int i = 0; i < 8; i++)
    value = value << 8 | spi[i];
  return value;
}

static IkeMsg *
parse_msg (const GoldenMsg *msg)
{
  g_autoptr (GError) error = NULL;
  IkeMsgFault fault = { 0 };
  IkeMsg *parsed = ike_msg_parse (msg->bytes, &fault, &error);

  if (error != NULL)
    g_test_message ("%s: fault at payload %u (#%u), offset %zu", msg->file, fault.payload,
                    fault.index, fault.offset);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  return parsed;
}

/* The chosen proposal (one, with one transform of each type) is SA's. */
static void
assert_proposal (const IkePayloadSa *payload, const GoldenSa *sa, gboolean rekey)
{
  const IkeProposal *proposal;
  guint seen = 0;

  g_assert_cmpuint (payload->n_proposals, ==, 1);
  proposal = &payload->proposals[0];
  g_assert_cmpuint (proposal->protocol, ==, IKE_PROTO_IKE);
  g_assert_cmpuint (proposal->spi_len, ==, rekey ? 8 : 0);
  for (guint i = 0; i < proposal->n_transforms; i++)
    {
      const IkeTransform *t = &proposal->transforms[i];

      g_assert_false (seen & (1u << t->type));
      seen |= 1u << t->type;
      switch (t->type)
        {
        case IKE_TRANSFORM_ENCR:
          g_assert_cmpuint (t->id, ==, sa->spec.encr);
          g_assert_cmpuint (t->key_length, ==, sa->spec.key_bits);
          break;
        case IKE_TRANSFORM_PRF:
          g_assert_cmpuint (t->id, ==, sa->prf);
          break;
        case IKE_TRANSFORM_INTEG:
          g_assert_cmpuint (t->id, ==, sa->spec.integ);
          break;
        case IKE_TRANSFORM_KE:
          g_assert_cmpuint (t->id, ==, sa->dh);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_assert_true (seen & (1u << IKE_TRANSFORM_ENCR));
  g_assert_true (seen & (1u << IKE_TRANSFORM_PRF));
  g_assert_true (seen & (1u << IKE_TRANSFORM_KE));
  g_assert_cmpint (!!(seen & (1u << IKE_TRANSFORM_INTEG)), ==, sa->spec.integ != IKE_INTEG_NONE);
}

/* ---- parse: every message, byte for byte ---- */

static void
test_parse (gconstpointer data)
{
  const GoldenMsg *msg = data;
  const GoldenSa *sa = msg_sa (msg);
  const char *software = g_hash_table_lookup (msg->scenario->software, msg->from);
  g_autoptr (IkeMsg) parsed = parse_msg (msg);
  const IkeHeader *header = ike_msg_get_header (parsed);
  gboolean from_initiator = g_str_equal (msg->from, sa->initiator);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) rebuilt = NULL;
  g_autofree char *text = ike_msg_describe (parsed);

  g_test_message ("%s", text);
  /* the file name, the JSON and the header agree */
  g_assert_nonnull (software);
  g_assert_true (g_ascii_strncasecmp (software, msg->name_sender, strlen (msg->name_sender)) == 0);
  g_assert_cmpuint (header->exchange, ==, msg->name_exchange);
  g_assert_cmpuint (header->exchange, ==, msg->exchange);
  g_assert_cmpint (!!(header->flags & IKE_FLAG_RESPONSE), ==, msg->name_response);
  g_assert_cmpint (!!(header->flags & IKE_FLAG_RESPONSE), ==, msg->response);
  g_assert_cmpint (!!(header->flags & IKE_FLAG_INITIATOR), ==, from_initiator);
  g_assert_cmpuint (header->message_id, ==, msg->message_id);
  g_assert_cmphex (header->spi_i, ==, spi_value (sa->spi_i));
  if (header->exchange == IKE_EXCHANGE_SA_INIT && !msg->response)
    g_assert_cmphex (header->spi_r, ==, 0);
  else
    g_assert_cmphex (header->spi_r, ==, spi_value (sa->spi_r));
  g_assert_cmpint (msg->inner != NULL, ==,
                   ike_msg_get_sk (parsed) != NULL || ike_msg_get_skf (parsed) != NULL);

  rebuilt = ike_msg_to_bytes (parsed, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (rebuilt, NULL), g_bytes_get_size (rebuilt),
                   g_bytes_get_data (msg->bytes, NULL), g_bytes_get_size (msg->bytes));

  if (header->exchange == IKE_EXCHANGE_SA_INIT)
    {
      const IkePayload *nonce = ike_msg_find (parsed, IKE_PAYLOAD_NONCE);
      const IkePayload *ke = ike_msg_find (parsed, IKE_PAYLOAD_KE);
      const IkePayload *sa_payload = ike_msg_find (parsed, IKE_PAYLOAD_SA);

      g_assert_nonnull (nonce);
      g_assert_nonnull (ke);
      g_assert_nonnull (sa_payload);
      assert_slice (nonce->u.nonce, msg->response ? sa->nr : sa->ni);
      g_assert_cmpuint (ke->u.ke.group, ==, sa->dh);
      if (msg->response)
        assert_proposal (&sa_payload->u.sa, sa, FALSE);
    }
}

/* ---- decrypt: SK and SKF with the logged keys ---- */

static IkeCipher *
sa_cipher (const GoldenSa *sa, gboolean from_initiator)
{
  g_autoptr (PK11SymKey) sk_e = symkey (from_initiator ? sa->sk_ei : sa->sk_er);
  g_autoptr (PK11SymKey) sk_a = NULL;
  g_autoptr (GError) error = NULL;
  IkeCipher *cipher;

  if (sa->spec.integ != IKE_INTEG_NONE)
    sk_a = symkey (from_initiator ? sa->sk_ai : sa->sk_ar);
  cipher = ike_cipher_new (&sa->spec, sk_e, sk_a, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cipher);
  return cipher;
}

/* The datagrams of MSG's IKE message: MSG, or all fragments in order. */
static GPtrArray *
message_parts (const GoldenMsg *msg)
{
  GPtrArray *parts = g_ptr_array_new ();

  if (msg->fragment == 0)
    {
      g_ptr_array_add (parts, (gpointer) msg);
      return parts;
    }
  for (guint number = 1; number <= msg->total; number++)
    for (guint i = 0; i < msg->scenario->msgs->len; i++)
      {
        const GoldenMsg *other = g_ptr_array_index (msg->scenario->msgs, i);

        if (other->sa == msg->sa && other->message_id == msg->message_id
            && other->response == msg->response && other->fragment == number)
          {
            g_assert_cmpuint (other->total, ==, msg->total);
            g_ptr_array_add (parts, (gpointer) other);
          }
      }
  g_assert_cmpuint (parts->len, ==, msg->total);
  return parts;
}

/* Opens every SK/SKF of PARTS with CIPHER; returns the content, or NULL with
 * the error of the first that fails. */
static GBytes *
open_parts (GPtrArray *parts, IkeCipher *cipher, guint8 *first_inner, GError **error)
{
  g_autoptr (GByteArray) plain = g_byte_array_new ();

  for (guint i = 0; i < parts->len; i++)
    {
      const GoldenMsg *part = g_ptr_array_index (parts, i);
      g_autoptr (IkeMsg) parsed = parse_msg (part);
      const guint8 *bytes = g_bytes_get_data (ike_msg_get_bytes (parsed), NULL);
      const IkePayloadSk *sk = ike_msg_get_sk (parsed);
      const IkePayloadSkf *skf = ike_msg_get_skf (parsed);
      g_autoptr (GBytes) opened = NULL;

      if (sk != NULL)
        {
          g_assert_cmpuint (parts->len, ==, 1);
          *first_inner = sk->first_inner;
          opened = ike_cipher_open (cipher, bytes, sk->aad_len, sk->body.data, sk->body.len, error);
        }
      else
        {
          g_assert_nonnull (skf);
          g_assert_cmpuint (skf->number, ==, i + 1);
          g_assert_cmpuint (skf->total, ==, parts->len);
          if (skf->number == 1)
            *first_inner = skf->first_inner;
          else
            g_assert_cmpuint (skf->first_inner, ==, 0);
          opened
              = ike_cipher_open (cipher, bytes, skf->aad_len, skf->body.data, skf->body.len, error);
        }
      if (opened == NULL)
        return NULL;
      g_byte_array_append (plain, g_bytes_get_data (opened, NULL),
                           (guint) g_bytes_get_size (opened));
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&plain));
}

/* MSG's decrypted content, checked to build back to the same bytes. */
static IkeInner *
decrypt_msg (const GoldenMsg *msg, GBytes **plain_out)
{
  const GoldenSa *sa = msg_sa (msg);
  gboolean from_initiator = g_str_equal (msg->from, sa->initiator);
  g_autoptr (GPtrArray) parts = message_parts (msg);
  g_autoptr (IkeCipher) cipher = sa_cipher (sa, from_initiator);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (GBytes) rebuilt = NULL;
  IkeMsgFault fault = { 0 };
  IkeInner *inner;
  guint8 first = 0, first_again = 0;

  plain = open_parts (parts, cipher, &first, &error);
  g_assert_no_error (error);
  inner = ike_inner_parse (plain, first, &fault, &error);
  if (error != NULL)
    g_test_message ("fault at inner payload %u (#%u), offset %zu", fault.payload, fault.index,
                    fault.offset);
  g_assert_no_error (error);
  rebuilt = ike_inner_to_bytes (inner, &first_again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first_again, ==, first);
  g_assert_cmpmem (g_bytes_get_data (rebuilt, NULL), g_bytes_get_size (rebuilt),
                   g_bytes_get_data (plain, NULL), g_bytes_get_size (plain));
  if (plain_out != NULL)
    *plain_out = g_steal_pointer (&plain);
  return inner;
}

static gboolean
has (const IkeInner *inner, guint type)
{
  return ike_inner_find (inner, type) != NULL;
}

/* What RFC 7296 lets each exchange carry inside SK (§1.2-§1.5, §1.3.2). */
typedef struct
{
  guint8 exchange;
  gboolean response;
  guint8 required[3];
  guint8 allowed[13];
} ContentRule;

static const ContentRule content_rules[] = {
  { IKE_EXCHANGE_AUTH,
    FALSE,
    { IKE_PAYLOAD_IDI, IKE_PAYLOAD_AUTH },
    { IKE_PAYLOAD_IDI, IKE_PAYLOAD_CERT, IKE_PAYLOAD_CERTREQ, IKE_PAYLOAD_IDR, IKE_PAYLOAD_AUTH,
      IKE_PAYLOAD_SA, IKE_PAYLOAD_TSI, IKE_PAYLOAD_TSR, IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_CP,
      IKE_PAYLOAD_VENDOR, IKE_PAYLOAD_EAP } },
  { IKE_EXCHANGE_AUTH,
    TRUE,
    { IKE_PAYLOAD_IDR, IKE_PAYLOAD_AUTH },
    { IKE_PAYLOAD_IDR, IKE_PAYLOAD_CERT, IKE_PAYLOAD_AUTH, IKE_PAYLOAD_SA, IKE_PAYLOAD_TSI,
      IKE_PAYLOAD_TSR, IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_CP, IKE_PAYLOAD_VENDOR, IKE_PAYLOAD_EAP } },
  { IKE_EXCHANGE_CREATE_CHILD_SA,
    FALSE,
    { IKE_PAYLOAD_SA, IKE_PAYLOAD_NONCE },
    { IKE_PAYLOAD_SA, IKE_PAYLOAD_NONCE, IKE_PAYLOAD_KE, IKE_PAYLOAD_TSI, IKE_PAYLOAD_TSR,
      IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_VENDOR } },
  { IKE_EXCHANGE_CREATE_CHILD_SA,
    TRUE,
    { IKE_PAYLOAD_SA, IKE_PAYLOAD_NONCE },
    { IKE_PAYLOAD_SA, IKE_PAYLOAD_NONCE, IKE_PAYLOAD_KE, IKE_PAYLOAD_TSI, IKE_PAYLOAD_TSR,
      IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_VENDOR } },
  { IKE_EXCHANGE_INFORMATIONAL,
    FALSE,
    { 0 },
    { IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_DELETE, IKE_PAYLOAD_CP, IKE_PAYLOAD_VENDOR } },
  { IKE_EXCHANGE_INFORMATIONAL,
    TRUE,
    { 0 },
    { IKE_PAYLOAD_NOTIFY, IKE_PAYLOAD_DELETE, IKE_PAYLOAD_CP, IKE_PAYLOAD_VENDOR } },
};

static gboolean
in_list (const guint8 *list, gsize n, guint type)
{
  for (gsize i = 0; i < n && list[i] != 0; i++)
    if (list[i] == type)
      return TRUE;
  return FALSE;
}

/* A response may instead be an error: Notify payloads only, the first an
 * error type (below 16384; RFC 7296 §2.21, §3.10.1). */
static gboolean
is_error_response (const IkeInner *inner)
{
  const IkePayload *first;

  if (ike_inner_get_n_payloads (inner) == 0)
    return FALSE;
  first = ike_inner_get_payload (inner, 0);
  if (first->type != IKE_PAYLOAD_NOTIFY || first->u.notify.type >= 16384)
    return FALSE;
  for (guint i = 0; i < ike_inner_get_n_payloads (inner); i++)
    if (ike_inner_get_payload (inner, i)->type != IKE_PAYLOAD_NOTIFY)
      return FALSE;
  return TRUE;
}

static void
assert_rfc_content (guint8 exchange, gboolean response, const IkeInner *inner)
{
  const ContentRule *rule = NULL;
  const IkePayload *sa;

  for (guint i = 0; i < G_N_ELEMENTS (content_rules); i++)
    if (content_rules[i].exchange == exchange && content_rules[i].response == response)
      rule = &content_rules[i];
  g_assert_nonnull (rule);
  if (response && exchange != IKE_EXCHANGE_INFORMATIONAL && is_error_response (inner))
    return;
  for (guint i = 0; i < ike_inner_get_n_payloads (inner); i++)
    {
      guint type = ike_inner_get_payload (inner, i)->type;

      if (!in_list (rule->allowed, G_N_ELEMENTS (rule->allowed), type))
        g_error ("%s %s: %s (%u) does not belong there", ike_exchange_name (exchange),
                 response ? "response" : "request", payload_name (type), type);
    }
  for (guint i = 0; i < G_N_ELEMENTS (rule->required) && rule->required[i] != 0; i++)
    if (!has (inner, rule->required[i]))
      g_error ("%s %s: %s missing", ike_exchange_name (exchange), response ? "response" : "request",
               payload_name (rule->required[i]));
  /* a Child SA comes whole: SA, TSi and TSr, or none of them */
  if (exchange == IKE_EXCHANGE_AUTH)
    {
      g_assert_cmpint (has (inner, IKE_PAYLOAD_SA), ==, has (inner, IKE_PAYLOAD_TSI));
      g_assert_cmpint (has (inner, IKE_PAYLOAD_SA), ==, has (inner, IKE_PAYLOAD_TSR));
    }
  /* CREATE_CHILD_SA rekeys the IKE SA (KE, no TS) or makes a Child SA (TS) */
  sa = ike_inner_find (inner, IKE_PAYLOAD_SA);
  if (exchange == IKE_EXCHANGE_CREATE_CHILD_SA && sa != NULL)
    {
      gboolean ike = sa->u.sa.n_proposals > 0 && sa->u.sa.proposals[0].protocol == IKE_PROTO_IKE;

      g_assert_cmpint (has (inner, IKE_PAYLOAD_TSI), ==, !ike);
      g_assert_cmpint (has (inner, IKE_PAYLOAD_TSR), ==, !ike);
      if (ike)
        g_assert_true (has (inner, IKE_PAYLOAD_KE));
    }
}

/* The IKE SA that a CREATE_CHILD_SA on MSG's IKE SA made, or NULL. */
static const GoldenSa *
rekeyed_by (const GoldenMsg *msg)
{
  for (guint i = 0; i < msg->scenario->sas->len; i++)
    {
      const GoldenSa *sa = g_ptr_array_index (msg->scenario->sas, i);

      if (sa->rekey_of == (int) msg->sa)
        return sa;
    }
  return NULL;
}

static void
assert_rekey (const GoldenMsg *msg, const IkeInner *inner)
{
  const IkePayload *sa_payload = ike_inner_find (inner, IKE_PAYLOAD_SA);
  const IkePayload *nonce = ike_inner_find (inner, IKE_PAYLOAD_NONCE);
  const IkePayload *ke = ike_inner_find (inner, IKE_PAYLOAD_KE);
  const GoldenSa *new_sa = rekeyed_by (msg);
  const IkeProposal *proposal;

  g_assert_nonnull (new_sa);
  g_assert_nonnull (sa_payload);
  g_assert_nonnull (nonce);
  g_assert_nonnull (ke);
  g_assert_cmpuint (sa_payload->u.sa.n_proposals, >=, 1);
  proposal = &sa_payload->u.sa.proposals[0];
  g_assert_cmpuint (proposal->spi_len, ==, 8);
  g_assert_cmpmem (proposal->spi, 8, msg->response ? new_sa->spi_r : new_sa->spi_i, 8);
  assert_slice (nonce->u.nonce, msg->response ? new_sa->nr : new_sa->ni);
  g_assert_cmpuint (ke->u.ke.group, ==, new_sa->dh);
  if (msg->response)
    assert_proposal (&sa_payload->u.sa, new_sa, TRUE);
}

static void
test_decrypt (gconstpointer data)
{
  const GoldenMsg *msg = data;
  const GoldenSa *sa = msg_sa (msg);
  gboolean from_initiator = g_str_equal (msg->from, sa->initiator);
  g_autoptr (IkeInner) inner = decrypt_msg (msg, NULL);
  g_autofree char *text = ike_inner_describe (inner);
  g_autoptr (GPtrArray) parts = message_parts (msg);
  g_autoptr (IkeCipher) wrong = sa_cipher (sa, !from_initiator);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) none = NULL;
  guint8 first = 0;

  g_test_message ("%s", text);
  /* the payload types the capture tool saw */
  g_assert_cmpuint (ike_inner_get_n_payloads (inner), ==, g_strv_length (msg->inner));
  for (guint i = 0; i < ike_inner_get_n_payloads (inner); i++)
    g_assert_cmpstr (payload_name (ike_inner_get_payload (inner, i)->type), ==, msg->inner[i]);
  assert_rfc_content (msg->exchange, msg->response, inner);
  if (msg->exchange == IKE_EXCHANGE_CREATE_CHILD_SA)
    assert_rekey (msg, inner);

  /* the other direction's keys do not open it */
  none = open_parts (parts, wrong, &first, &error);
  g_assert_error (error, IKE_CRYPTO_ERROR, IKE_CRYPTO_ERROR_INTEGRITY);
  g_assert_null (none);
}

/* ---- keys: SKEYSEED and SK_* from g^ir, the nonces and the SPIs ---- */

static void
test_keys (gconstpointer data)
{
  const GoldenSa *sa = data;
  g_autoptr (PK11SymKey) g_ir = symkey (sa->g_ir);
  g_autoptr (PK11SymKey) skeyseed = NULL;
  g_auto (IkeSaKeys) keys = { 0 };
  g_autoptr (GError) error = NULL;

  g_test_message ("encr %u/%u integ %u prf %u dh %u%s", sa->spec.encr, sa->spec.key_bits,
                  sa->spec.integ, sa->prf, sa->dh, sa->rekey_of >= 0 ? ", rekeyed" : "");
  if (sa->rekey_of < 0)
    skeyseed = ike_skeyseed (sa->prf, g_ir, sa->ni, sa->nr, &error);
  else
    {
      const GoldenSa *old = g_ptr_array_index (sa->scenario->sas, sa->rekey_of);
      g_autoptr (PK11SymKey) old_sk_d = symkey (old->sk_d);

      skeyseed = ike_skeyseed_rekey (old->prf, old_sk_d, g_ir, sa->ni, sa->nr, &error);
    }
  g_assert_no_error (error);
  assert_key (skeyseed, sa->skeyseed, "SKEYSEED");

  ike_sa_keys_derive (&keys, sa->prf, &sa->spec, skeyseed, sa->ni, sa->nr, sa->spi_i, sa->spi_r,
                      &error);
  g_assert_no_error (error);
  assert_key (keys.sk_d, sa->sk_d, "SK_d");
  assert_key (keys.sk_ai, sa->sk_ai, "SK_ai");
  assert_key (keys.sk_ar, sa->sk_ar, "SK_ar");
  assert_key (keys.sk_ei, sa->sk_ei, "SK_ei");
  assert_key (keys.sk_er, sa->sk_er, "SK_er");
  assert_key (keys.sk_pi, sa->sk_pi, "SK_pi");
  assert_key (keys.sk_pr, sa->sk_pr, "SK_pr");
}

/* ---- auth: the PSK MICs of IKE_AUTH ---- */

static const GoldenMsg *
find_msg (const Scenario *scenario, guint8 exchange, gboolean response)
{
  for (guint i = 0; i < scenario->msgs->len; i++)
    {
      const GoldenMsg *msg = g_ptr_array_index (scenario->msgs, i);

      if (msg->sa == 0 && msg->exchange == exchange && msg->response == response
          && msg->fragment <= 1)
        return msg;
    }
  g_error ("%s: no %s %s", scenario->name, ike_exchange_name (exchange),
           response ? "response" : "request");
}

/* AUTH of one side: prf(prf(PSK, "Key Pad for IKEv2"), <its IKE_SA_INIT
 * message> | <the other side's nonce> | prf(SK_p, <its ID payload body>)). */
static void
assert_auth (const Scenario *scenario, gboolean response)
{
  const GoldenSa *sa = g_ptr_array_index (scenario->sas, 0);
  const GoldenMsg *init = find_msg (scenario, IKE_EXCHANGE_SA_INIT, response);
  const GoldenMsg *auth_msg = find_msg (scenario, IKE_EXCHANGE_AUTH, response);
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (IkeInner) inner = decrypt_msg (auth_msg, &plain);
  const IkePayload *id = ike_inner_find (inner, response ? IKE_PAYLOAD_IDR : IKE_PAYLOAD_IDI);
  const IkePayload *auth = ike_inner_find (inner, IKE_PAYLOAD_AUTH);
  g_autoptr (PK11SymKey) sk_p = symkey (response ? sa->sk_pr : sa->sk_pi);
  g_autoptr (GBytes) octets = NULL;
  g_autoptr (GBytes) expected = NULL;
  g_autoptr (GError) error = NULL;
  const guint8 *id_body;
  gsize id_len;

  g_assert_nonnull (id);
  g_assert_nonnull (auth);
  g_assert_cmpuint (auth->u.auth.method, ==, IKE_AUTH_SHARED_KEY);
  /* the ID payload without its generic header: ID Type, RESERVED, data */
  id_len = IKE_PAYLOAD_HEADER_LEN + id->u.id.data.len;
  g_assert_cmpuint (id->offset + IKE_PAYLOAD_HEADER_LEN + id_len, <=, g_bytes_get_size (plain));
  id_body = (const guint8 *) g_bytes_get_data (plain, NULL) + id->offset + IKE_PAYLOAD_HEADER_LEN;
  g_assert_cmpuint (id_body[0], ==, id->u.id.type);
  g_assert_true (id_body + 4 == id->u.id.data.data);

  octets = ike_auth_signed_octets (sa->prf, sk_p, init->bytes, response ? sa->ni : sa->nr, id_body,
                                   id_len, &error);
  g_assert_no_error (error);
  expected = ike_auth_psk (sa->prf, (const guint8 *) scenario->psk, strlen (scenario->psk), octets,
                           &error);
  g_assert_no_error (error);
  g_assert_true (ike_auth_verify (expected, auth->u.auth.data.data, auth->u.auth.data.len, &error));
  g_assert_no_error (error);
}

static void
test_auth (gconstpointer data)
{
  assert_auth (data, FALSE);
  assert_auth (data, TRUE);
}

/* ---- registration ---- */

static void
test_unlisted (gconstpointer data)
{
  g_test_fail_printf ("%s is in %s but in no <scenario>.json", (const char *) data, IKE_GOLDEN_DIR);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The file names in the golden directory with SUFFIX, sorted. */
static GPtrArray *
golden_files (const char *suffix)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (IKE_GOLDEN_DIR, 0, &error);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, suffix))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

static void
add_scenario_tests (Scenario *scenario, GHashTable *listed)
{
  for (guint i = 0; i < scenario->msgs->len; i++)
    {
      GoldenMsg *msg = g_ptr_array_index (scenario->msgs, i);
      g_autofree char *parse
          = g_strdup_printf ("/ike-golden/%s/parse/%s", scenario->name, msg->file);
      g_autofree char *decrypt
          = g_strdup_printf ("/ike-golden/%s/decrypt/%s", scenario->name, msg->file);

      if (!g_hash_table_add (listed, g_strdup (msg->file)))
        g_error ("%s is listed twice", msg->file);
      g_test_add_data_func (parse, msg, test_parse);
      if (msg->inner != NULL)
        g_test_add_data_func (decrypt, msg, test_decrypt);
    }
  for (guint i = 0; i < scenario->sas->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/ike-golden/%s/keys/ike-sa-%u", scenario->name, i);

      g_test_add_data_func (path, g_ptr_array_index (scenario->sas, i), test_keys);
    }
  {
    g_autofree char *path = g_strdup_printf ("/ike-golden/%s/auth", scenario->name);

    g_test_add_data_func (path, scenario, test_auth);
  }
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) scenarios = g_ptr_array_new_with_free_func ((GDestroyNotify) scenario_free);
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) jsons = NULL;
  g_autoptr (GPtrArray) bins = NULL;
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  if (!ike_crypto_init (&error))
    g_error ("NSS: %s", error->message);
  jsons = golden_files (".json");
  bins = golden_files (".bin");
  if (jsons->len == 0)
    g_error ("no golden data in " IKE_GOLDEN_DIR ": run tests/interop/capture-golden.py");
  for (guint i = 0; i < jsons->len; i++)
    {
      Scenario *scenario = load_scenario (g_ptr_array_index (jsons, i));

      g_ptr_array_add (scenarios, scenario);
      add_scenario_tests (scenario, listed);
    }
  for (guint i = 0; i < bins->len; i++)
    {
      const char *name = g_ptr_array_index (bins, i);
      g_autofree char *path = NULL;

      if (g_hash_table_contains (listed, name))
        continue;
      path = g_strdup_printf ("/ike-golden/unlisted/%s", name);
      g_test_add_data_func (path, name, test_unlisted);
    }
  return g_test_run ();
}
