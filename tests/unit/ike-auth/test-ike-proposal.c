/* Proposal strings (parse, errors, format round trips, defaults) and
 * negotiation (RFC 7296 §2.7): the responder's choice and its order rule,
 * the initiator's check of the reply, and the KE group to send. */
#include <glib.h>
#include <string.h>

#include "ike-proposal.h"

#define T(type, id, len)                                                                           \
  {                                                                                                \
    IKE_TRANSFORM_##type, id, len                                                                  \
  }

static void
parse_ok (const char *text, IkeProtocolId protocol, IkeProposalList *list)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;

  g_assert_true (
      ike_proposal_list_parse (text, protocol, IKE_PROPOSAL_FLAGS_NONE, list, &warning, &error));
  g_assert_no_error (error);
  g_assert_null (warning);
}

static void
assert_transforms (const IkeProposal *p, const IkeTransform *want, guint n_want)
{
  g_assert_cmpuint (p->n_transforms, ==, n_want);
  for (guint i = 0; i < n_want; i++)
    {
      g_assert_cmpuint (p->transforms[i].type, ==, want[i].type);
      g_assert_cmpuint (p->transforms[i].id, ==, want[i].id);
      g_assert_cmpuint (p->transforms[i].key_length, ==, want[i].key_length);
    }
}

/* ---- parsing ---- */

typedef struct
{
  const char *text;
  IkeProtocolId protocol;
  IkeTransform want[12];
  guint n_want;
} ParseCase;

static void
test_parse_examples (void)
{
  static const ParseCase cases[] = {
    { "aes_gcm16_256-prfsha256-x25519",
      IKE_PROTO_IKE,
      { T (ENCR, 20, 256), T (PRF, 5, 0), T (KE, 31, 0) },
      3 },
    { "aes256gcm16-prfsha384-ecp384",
      IKE_PROTO_IKE,
      { T (ENCR, 20, 256), T (PRF, 6, 0), T (KE, 20, 0) },
      3 },
    /* Integrity without a PRF: the PRF follows the integrity algorithm. */
    { "aes256-sha256-modp3072",
      IKE_PROTO_IKE,
      { T (ENCR, 12, 256), T (PRF, 5, 0), T (INTEG, 12, 0), T (KE, 15, 0) },
      4 },
    { "chacha20poly1305-prfsha512-curve25519",
      IKE_PROTO_IKE,
      { T (ENCR, 28, 0), T (PRF, 7, 0), T (KE, 31, 0) },
      3 },
    /* libreswan: '+' for alternatives, ';' before the groups. */
    { "aes_gcm256+aes_gcm128-prfsha2_512;dh19+dh20",
      IKE_PROTO_IKE,
      { T (ENCR, 20, 256), T (ENCR, 20, 128), T (PRF, 7, 0), T (KE, 19, 0), T (KE, 20, 0) },
      5 },
    /* strongSwan: repeat a kind for alternatives, in preference order. */
    { "aes128-aes256-sha256-sha384-modp2048-ecp256",
      IKE_PROTO_IKE,
      { T (ENCR, 12, 128), T (ENCR, 12, 256), T (PRF, 5, 0), T (PRF, 6, 0), T (INTEG, 12, 0),
        T (INTEG, 13, 0), T (KE, 14, 0), T (KE, 19, 0) },
      8 },
    { "AES256-SHA2_256-DH14",
      IKE_PROTO_IKE,
      { T (ENCR, 12, 256), T (PRF, 5, 0), T (INTEG, 12, 0), T (KE, 14, 0) },
      4 },
    { "aes_gcm16_256", IKE_PROTO_ESP, { T (ENCR, 20, 256), T (ESN, 0, 0) }, 2 },
    { "aes256-sha256-esn",
      IKE_PROTO_ESP,
      { T (ENCR, 12, 256), T (INTEG, 12, 0), T (ESN, 1, 0) },
      3 },
    { "aes_gcm16_128-x25519",
      IKE_PROTO_ESP,
      { T (ENCR, 20, 128), T (KE, 31, 0), T (ESN, 0, 0) },
      3 },
    { "esn-noesn-chacha20poly1305",
      IKE_PROTO_ESP,
      { T (ENCR, 28, 0), T (ESN, 1, 0), T (ESN, 0, 0) },
      3 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      IkeProposalList list;

      g_test_message ("%s", cases[i].text);
      parse_ok (cases[i].text, cases[i].protocol, &list);
      g_assert_cmpuint (list.n_proposals, ==, 1);
      g_assert_cmpuint (list.proposals[0].number, ==, 1);
      g_assert_cmpuint (list.proposals[0].protocol, ==, cases[i].protocol);
      g_assert_cmpuint (list.proposals[0].spi_len, ==, 0);
      assert_transforms (&list.proposals[0], cases[i].want, cases[i].n_want);
    }
}

static void
test_parse_several (void)
{
  static const IkeTransform first[]
      = { T (ENCR, 12, 256), T (PRF, 5, 0), T (INTEG, 12, 0), T (KE, 15, 0) };
  static const IkeTransform second[] = { T (ENCR, 20, 128), T (PRF, 5, 0), T (KE, 19, 0) };
  IkeProposalList list;

  parse_ok (" aes256 - sha256 - modp3072 , aes_gcm16_128-prfsha256-ecp256 ", IKE_PROTO_IKE, &list);
  g_assert_cmpuint (list.n_proposals, ==, 2);
  g_assert_cmpuint (list.proposals[0].number, ==, 1);
  g_assert_cmpuint (list.proposals[1].number, ==, 2);
  assert_transforms (&list.proposals[0], first, G_N_ELEMENTS (first));
  assert_transforms (&list.proposals[1], second, G_N_ELEMENTS (second));
}

typedef struct
{
  const char *text;
  IkeProtocolId protocol;
  IkeProposalError code;
  const char *says; /* part of the message */
} ErrorCase;

static void
test_parse_errors (void)
{
  static const ErrorCase cases[] = {
    { "aes257-sha256-modp3072", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_UNKNOWN,
      "IKE proposal 1 (\"aes257-sha256-modp3072\"): unknown algorithm \"aes257\"" },
    { "aes256-sha256-modp3072,aes_gcm16_256-prfsha256-modp8192", IKE_PROTO_IKE,
      IKE_PROPOSAL_ERROR_UNKNOWN, "proposal 2 (\"aes_gcm16_256-prfsha256-modp8192\")" },
    { "aes_gcm16_256-sha256-prfsha256-x25519", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_CONFLICT,
      "AEAD encryption combined with an integrity algorithm" },
    { "aes_gcm16_256-sha256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_CONFLICT,
      "combined with an integrity" },
    { "aes_gcm16_256-aes256-sha256-prfsha256-x25519", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_CONFLICT,
      "AEAD and non-AEAD encryption mixed" },
    { "aes256-modp3072", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_INCOMPLETE,
      "encryption without an integrity algorithm" },
    { "aes256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_INCOMPLETE, "without an integrity" },
    { "aes_gcm16_256-x25519", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_INCOMPLETE, "AEAD needs a PRF" },
    { "aes256-sha256", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_INCOMPLETE, "no key exchange group" },
    { "sha256-prfsha256-x25519", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_INCOMPLETE,
      "no encryption algorithm" },
    { "3des-sha256-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_WEAK, "\"3des\" is weak" },
    { "aes256-sha1-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_WEAK, "\"sha1\" is weak" },
    { "aes256-sha256-prfsha1-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_WEAK, "prfsha1" },
    { "aes256-sha256-modp1024", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_WEAK, "modp1024" },
    { "aes_gcm8_256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_WEAK, "aes_gcm8_256" },
    { "null-sha256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_WEAK, "\"null\" is weak" },
    { "null-sha256-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_CONFLICT,
      "\"null\" has no place in an IKE proposal" },
    { "aes256-sha256-prfsha256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_CONFLICT,
      "\"prfsha256\" has no place in an ESP proposal" },
    { "aes256-sha256-esn-modp3072", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_CONFLICT,
      "\"esn\" has no place in an IKE proposal" },
    { "aes256--sha256-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX, "empty algorithm name" },
    { "aes256-sha256-modp2048,", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX,
      "proposal 2 (\"\"): empty proposal" },
    { "", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX, "no proposals" },
    { " , aes_gcm16_256", IKE_PROTO_ESP, IKE_PROPOSAL_ERROR_SYNTAX, "proposal 1 (\"\"): empty" },
    { "aes256-aes256-sha256-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX,
      "\"aes256\" given twice" },
    { "aes256-aes_cbc_256-sha256-modp2048", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX,
      "\"aes_cbc_256\" given twice" },
    { "aes256-sha256", IKE_PROTO_AH, IKE_PROPOSAL_ERROR_CONFLICT, "protocol 2" },
    { "aes256-sha256-modp2048\xff", IKE_PROTO_IKE, IKE_PROPOSAL_ERROR_SYNTAX, "UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *warning = NULL;
      IkeProposalList list = { 7 };

      g_autofree char *shown = g_strescape (cases[i].text, NULL);

      g_test_message ("%s", shown);
      g_assert_false (ike_proposal_list_parse (cases[i].text, cases[i].protocol,
                                               IKE_PROPOSAL_FLAGS_NONE, &list, &warning, &error));
      g_assert_error (error, IKE_PROPOSAL_ERROR, (int) cases[i].code);
      g_test_message ("-> %s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].says));
      g_assert_null (warning);
      g_assert_cmpuint (list.n_proposals, ==, 7); /* untouched on failure */
    }
}

static void
test_parse_limits (void)
{
  g_autoptr (GString) many = g_string_new (NULL);
  g_autoptr (GString) longer = g_string_new ("aes256-sha256-modp2048");
  g_autoptr (GError) error = NULL;
  IkeProposalList list;

  for (int i = 0; i < IKE_MAX_PROPOSALS; i++)
    g_string_append (many, i > 0 ? ",aes_gcm16_256" : "aes_gcm16_256");
  g_assert_true (ike_proposal_list_parse (many->str, IKE_PROTO_ESP, 0, &list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (list.n_proposals, ==, IKE_MAX_PROPOSALS);
  g_string_append (many, ",aes_gcm16_256");
  g_assert_false (ike_proposal_list_parse (many->str, IKE_PROTO_ESP, 0, &list, NULL, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX);
  g_clear_error (&error);
  while (longer->len <= IKE_PROPOSAL_MAX_TEXT)
    g_string_append (longer, " ");
  g_assert_false (ike_proposal_list_parse (longer->str, IKE_PROTO_IKE, 0, &list, NULL, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX);
}

static void
test_parse_weak_allowed (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  IkeProposalList list;
  static const IkeTransform want[]
      = { T (ENCR, 3, 0), T (PRF, 2, 0), T (INTEG, 2, 0), T (KE, 2, 0) };

  g_assert_true (ike_proposal_list_parse ("3des-sha1-modp1024,aes256-sha256-modp2048-sha1",
                                          IKE_PROTO_IKE, IKE_PROPOSAL_ALLOW_WEAK, &list, &warning,
                                          &error));
  g_assert_no_error (error);
  g_assert_cmpstr (warning, ==, "weak algorithms allowed by configuration: 3des, sha1, modp1024");
  assert_transforms (&list.proposals[0], want, G_N_ELEMENTS (want));
  /* Strong text, same flag: no warning. */
  g_clear_pointer (&warning, g_free);
  g_assert_true (ike_proposal_list_parse ("aes256-sha256-modp2048", IKE_PROTO_IKE,
                                          IKE_PROPOSAL_ALLOW_WEAK, &list, &warning, &error));
  g_assert_null (warning);
}

/* ---- formatting ---- */

static const char *round_trip_ike[] = {
  "aes_gcm16_256-prfsha256-x25519",
  "aes256gcm16-prfsha384-ecp384",
  "aes256-sha256-modp3072",
  "chacha20poly1305-prfsha512-curve25519",
  "aes_gcm256+aes_gcm128-prfsha2_512;dh19+dh20",
  "aes128-aes256-sha256-sha384-modp2048-ecp256,aes_gcm16_192-prfsha256-dh21",
  "aes192-sha512-prfsha384-modp4096-x25519",
};

static const char *round_trip_esp[] = {
  "aes_gcm16_256",
  "aes256-sha256-esn",
  "aes_gcm16_128-x25519-ecp256",
  "chacha20poly1305-esn-noesn,aes128-sha384-noesn-esn-modp3072",
};

static void
check_round_trip (const char *text, IkeProtocolId protocol, IkeProposalFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *formatted = NULL;
  g_autofree char *again = NULL;
  IkeProposalList list, reparsed;

  g_assert_true (ike_proposal_list_parse (text, protocol, flags, &list, NULL, &error));
  g_assert_no_error (error);
  formatted = ike_proposal_list_format (&list);
  g_test_message ("%s -> %s", text, formatted);
  g_assert_nonnull (formatted);
  g_assert_true (ike_proposal_list_parse (formatted, protocol, flags, &reparsed, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ike_proposal_list_equal (&list, &reparsed));
  again = ike_proposal_list_format (&reparsed);
  g_assert_cmpstr (again, ==, formatted);
}

static void
test_format_round_trip (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (round_trip_ike); i++)
    check_round_trip (round_trip_ike[i], IKE_PROTO_IKE, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (round_trip_esp); i++)
    check_round_trip (round_trip_esp[i], IKE_PROTO_ESP, 0);
  check_round_trip ("3des-sha1-modp1536,aes128-md5-prfmd5-modp1024", IKE_PROTO_IKE,
                    IKE_PROPOSAL_ALLOW_WEAK);
  check_round_trip ("null-sha1,aes_gcm12_128-aes_gcm8_256", IKE_PROTO_ESP, IKE_PROPOSAL_ALLOW_WEAK);
}

static void
test_format_canonical (void)
{
  static const struct
  {
    const char *text;
    IkeProtocolId protocol;
    const char *canonical;
  } cases[] = {
    { "aes256gcm16-prfsha384-ecp384", IKE_PROTO_IKE, "aes_gcm16_256-prfsha384-ecp384" },
    { "aes256-sha256-modp3072", IKE_PROTO_IKE, "aes256-sha256-prfsha256-modp3072" },
    { "CHACHA20_POLY1305-prfsha2_512-dh31", IKE_PROTO_IKE, "chacha20poly1305-prfsha512-x25519" },
    { "aes_gcm16_256", IKE_PROTO_ESP, "aes_gcm16_256" },
    { "aes-sha2-noesn", IKE_PROTO_ESP, "aes128-sha256" },
    { "x25519-aes256-esn-sha256", IKE_PROTO_ESP, "aes256-sha256-x25519-esn" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      IkeProposalList list;
      g_autofree char *text = NULL;

      parse_ok (cases[i].text, cases[i].protocol, &list);
      text = ike_proposal_list_format (&list);
      g_assert_cmpstr (text, ==, cases[i].canonical);
    }
}

static void
test_format_unnamed (void)
{
  IkeProposal p = { 1, IKE_PROTO_IKE, 0, { 0 }, 2, { T (ENCR, 12, 256), T (INTEG, 99, 0) } };
  IkeProposal q = { 1, IKE_PROTO_IKE, 0, { 0 }, 1, { T (ENCR, 12, 100) } };
  IkeProposal r = { 1, IKE_PROTO_IKE, 0, { 0 }, 1, { { 9, 1, 0 } } };
  g_autofree char *a = ike_proposal_format (&p);
  g_autofree char *b = ike_proposal_format (&q);
  g_autofree char *c = ike_proposal_format (&r);

  g_assert_null (a);
  g_assert_null (b);
  g_assert_null (c);
}

/* ---- defaults ---- */

static gboolean
is_weak_or_old (const IkeTransform *t)
{
  switch (t->type)
    {
    case IKE_TRANSFORM_ENCR:
      return t->id != IKE_ENCR_AES_GCM_16 && t->id != IKE_ENCR_CHACHA20_POLY1305
             && t->id != IKE_ENCR_AES_CBC;
    case IKE_TRANSFORM_PRF:
      return t->id < IKE_PRF_HMAC_SHA2_256;
    case IKE_TRANSFORM_INTEG:
      return t->id < IKE_INTEG_HMAC_SHA2_256_128;
    case IKE_TRANSFORM_KE:
      return t->id == IKE_KE_MODP1024 || t->id == IKE_KE_MODP1536 || t->id == IKE_KE_MODP2048;
    default:
      return FALSE;
    }
}

static void
check_defaults (IkeProtocolId protocol)
{
  IkeProposalList list;
  g_autofree char *text = NULL;
  const IkeProposal *aead, *cbc;

  ike_proposal_list_default (protocol, &list);
  text = ike_proposal_list_format (&list);
  g_assert_cmpstr (text, ==, ike_proposal_default_text (protocol));
  g_assert_cmpuint (list.n_proposals, ==, 2);
  aead = &list.proposals[0];
  cbc = &list.proposals[1];
  /* AEAD first: AES-GCM-16 256, then 128, then ChaCha20-Poly1305. */
  g_assert_cmpuint (aead->transforms[0].id, ==, IKE_ENCR_AES_GCM_16);
  g_assert_cmpuint (aead->transforms[0].key_length, ==, 256);
  g_assert_cmpuint (aead->transforms[1].key_length, ==, 128);
  g_assert_cmpuint (aead->transforms[2].id, ==, IKE_ENCR_CHACHA20_POLY1305);
  g_assert_null (ike_proposal_get (aead, IKE_TRANSFORM_INTEG));
  g_assert_cmpuint (ike_proposal_get (cbc, IKE_TRANSFORM_ENCR)->id, ==, IKE_ENCR_AES_CBC);
  g_assert_cmpuint (ike_proposal_get (cbc, IKE_TRANSFORM_INTEG)->id, ==,
                    IKE_INTEG_HMAC_SHA2_256_128);
  g_assert_cmpuint (ike_proposal_first_ke (list.proposals, list.n_proposals), ==,
                    IKE_KE_CURVE25519);
  for (guint i = 0; i < list.n_proposals; i++)
    {
      const IkeProposal *p = &list.proposals[i];
      gboolean seen_modp = FALSE;

      g_assert_true ((ike_proposal_get (p, IKE_TRANSFORM_PRF) != NULL)
                     == (protocol == IKE_PROTO_IKE));
      for (guint j = 0; j < p->n_transforms; j++)
        {
          const IkeTransform *t = &p->transforms[j];
          gboolean modp
              = t->type == IKE_TRANSFORM_KE && t->id >= IKE_KE_MODP2048 && t->id <= IKE_KE_MODP8192;

          g_assert_false (is_weak_or_old (t));
          /* X25519 and ECP before MODP. */
          g_assert_true (t->type != IKE_TRANSFORM_KE || modp || !seen_modp);
          seen_modp |= modp;
          /* ESP: no ESN unless asked. */
          g_assert_true (t->type != IKE_TRANSFORM_ESN || t->id == IKE_ESN_NO);
        }
      g_assert_true (seen_modp);
    }
}

static void
test_defaults (void)
{
  check_defaults (IKE_PROTO_IKE);
  check_defaults (IKE_PROTO_ESP);
}

/* ---- negotiation ---- */

static IkeProposal
one (const char *text, IkeProtocolId protocol)
{
  IkeProposalList list;

  parse_ok (text, protocol, &list);
  g_assert_cmpuint (list.n_proposals, ==, 1);
  return list.proposals[0];
}

static void
select_ok (const IkeProposalList *ours, const IkeProposalList *peer, IkeProposalOrder order,
           IkeProposal *chosen)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ike_proposal_select (ours->proposals, ours->n_proposals, peer->proposals,
                                      peer->n_proposals, order, chosen, &error));
  g_assert_no_error (error);
}

static void
select_fails (const IkeProposal *ours, guint n_ours, const IkeProposal *peer, guint n_peer)
{
  g_autoptr (GError) error = NULL;
  IkeProposal chosen;

  for (int order = IKE_PROPOSAL_PEER_ORDER; order <= IKE_PROPOSAL_OUR_ORDER; order++)
    {
      g_assert_false (ike_proposal_select (ours, n_ours, peer, n_peer, order, &chosen, &error));
      g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN);
      g_clear_error (&error);
    }
}

static void
test_select_basic (void)
{
  static const IkeTransform want[] = { T (ENCR, 20, 128), T (PRF, 5, 0), T (KE, 19, 0) };
  IkeProposalList ours, peer;
  IkeProposal chosen;

  ike_proposal_list_default (IKE_PROTO_IKE, &ours);
  parse_ok ("aes_gcm16_128-prfsha256-ecp256", IKE_PROTO_IKE, &peer);
  peer.proposals[0].number = 7;
  peer.proposals[0].spi_len = 8;
  memcpy (peer.proposals[0].spi, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  assert_transforms (&chosen, want, G_N_ELEMENTS (want));
  g_assert_cmpuint (chosen.number, ==, 7);
  g_assert_cmpuint (chosen.protocol, ==, IKE_PROTO_IKE);
  g_assert_cmpuint (chosen.spi_len, ==, 8);
  g_assert_cmpmem (chosen.spi, 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
}

/* The order rule: by default the initiator's order decides, both among
 * proposals and among the transforms of one type. */
static void
test_select_order (void)
{
  IkeProposalList ours, peer;
  IkeProposal chosen;

  parse_ok ("aes_gcm16_256-prfsha256-x25519,aes_gcm16_128-prfsha256-x25519", IKE_PROTO_IKE, &ours);
  parse_ok ("aes_gcm16_128-prfsha256-x25519,aes_gcm16_256-prfsha256-x25519", IKE_PROTO_IKE, &peer);
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  g_assert_cmpuint (chosen.number, ==, 1);
  g_assert_cmpuint (chosen.transforms[0].key_length, ==, 128);
  select_ok (&ours, &peer, IKE_PROPOSAL_OUR_ORDER, &chosen);
  g_assert_cmpuint (chosen.number, ==, 2);
  g_assert_cmpuint (chosen.transforms[0].key_length, ==, 256);

  parse_ok ("aes_gcm16_256-aes_gcm16_128-prfsha384-prfsha256-x25519-ecp256", IKE_PROTO_IKE, &ours);
  parse_ok ("aes_gcm16_128-aes_gcm16_256-prfsha256-prfsha384-ecp256-x25519", IKE_PROTO_IKE, &peer);
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_ENCR)->key_length, ==, 128);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_PRF)->id, ==, IKE_PRF_HMAC_SHA2_256);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_KE)->id, ==, IKE_KE_ECP256);
  select_ok (&ours, &peer, IKE_PROPOSAL_OUR_ORDER, &chosen);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_ENCR)->key_length, ==, 256);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_PRF)->id, ==, IKE_PRF_HMAC_SHA2_384);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_KE)->id, ==, IKE_KE_CURVE25519);
  g_assert_cmpuint (chosen.n_transforms, ==, 3);
}

static void
test_select_mismatch (void)
{
  /* Each pair: ours, then the peer's; nothing acceptable either way. */
  static const struct
  {
    const char *ours, *peer;
    IkeProtocolId protocol;
  } cases[] = {
    { "aes128-aes256-sha256-modp3072", "aes192-sha256-modp3072", IKE_PROTO_IKE },
    { "aes_gcm16_128-prfsha256-x25519", "aes_gcm16_256-prfsha256-x25519", IKE_PROTO_IKE },
    { "aes256-sha256-modp3072", "aes256-sha256-prfsha384-modp3072", IKE_PROTO_IKE },
    { "aes256-sha256-modp3072", "aes256-sha384-modp3072", IKE_PROTO_IKE },
    { "aes_gcm16_256-prfsha256-x25519", "aes_gcm16_256-prfsha256-ecp256", IKE_PROTO_IKE },
    /* We want PFS, the peer offers none; the peer demands PFS, we do not. */
    { "aes_gcm16_256-x25519", "aes_gcm16_256", IKE_PROTO_ESP },
    { "aes_gcm16_256", "aes_gcm16_256-x25519", IKE_PROTO_ESP },
    { "aes_gcm16_256", "aes_gcm16_256-esn", IKE_PROTO_ESP },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      IkeProposal ours = one (cases[i].ours, cases[i].protocol);
      IkeProposal peer = one (cases[i].peer, cases[i].protocol);

      g_test_message ("%s vs %s", cases[i].ours, cases[i].peer);
      select_fails (&ours, 1, &peer, 1);
    }
}

static void
test_select_protocol (void)
{
  IkeProposal ours = one ("aes_gcm16_256-prfsha256-x25519", IKE_PROTO_IKE);
  IkeProposal peer = ours;

  peer.protocol = IKE_PROTO_ESP;
  select_fails (&ours, 1, &peer, 1);
  peer.protocol = IKE_PROTO_IKE;
  select_fails (&ours, 1, &peer, 0);
  select_fails (&ours, 0, &peer, 1);
}

/* NONE makes INTEG, KE and RFC 9370 additional KE types optional. */
static void
test_select_none (void)
{
  static const IkeTransform esp_want[] = { T (ENCR, 20, 256), T (ESN, 0, 0) };
  IkeProposalList ours = { 1 }, peer = { 1 };
  IkeProposal chosen;
  g_autoptr (GError) error = NULL;

  /* Peer offers PFS optionally (NONE or X25519); we do not want it. */
  ours.proposals[0] = one ("aes_gcm16_256", IKE_PROTO_ESP);
  peer.proposals[0] = (IkeProposal){
    1, IKE_PROTO_ESP,
    4, { 1, 2, 3, 4 },
    5, { T (ENCR, 20, 256), T (INTEG, 0, 0), T (KE, 0, 0), T (KE, 31, 0), T (ESN, 0, 0) }
  };
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  assert_transforms (&chosen, esp_want, G_N_ELEMENTS (esp_want));
  g_assert_true (ike_proposal_check_reply (peer.proposals, 1, &chosen, NULL, &error));
  g_assert_no_error (error);

  /* We offer optional PFS, the peer none. */
  ours.proposals[0] = peer.proposals[0];
  peer.proposals[0] = one ("aes_gcm16_256", IKE_PROTO_ESP);
  select_ok (&ours, &peer, IKE_PROPOSAL_OUR_ORDER, &chosen);
  assert_transforms (&chosen, esp_want, G_N_ELEMENTS (esp_want));

  /* An additional key exchange (type 6) the peer marks optional. */
  ours.proposals[0] = one ("aes_gcm16_256-prfsha256-x25519", IKE_PROTO_IKE);
  peer.proposals[0] = ours.proposals[0];
  peer.proposals[0].transforms[peer.proposals[0].n_transforms++] = (IkeTransform){ 6, 0, 0 };
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  g_assert_cmpuint (chosen.n_transforms, ==, 3);
  /* Not optional: type 6 without NONE, or an unknown type 13 even with 0. */
  peer.proposals[0].transforms[peer.proposals[0].n_transforms - 1].id = 31;
  select_fails (ours.proposals, 1, peer.proposals, 1);
  peer.proposals[0].transforms[peer.proposals[0].n_transforms - 1] = (IkeTransform){ 13, 0, 0 };
  select_fails (ours.proposals, 1, peer.proposals, 1);
}

static void
test_select_esn (void)
{
  IkeProposalList ours, peer;
  IkeProposal chosen;

  parse_ok ("aes_gcm16_256", IKE_PROTO_ESP, &ours);
  parse_ok ("aes_gcm16_256-esn-noesn", IKE_PROTO_ESP, &peer);
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_ESN)->id, ==, IKE_ESN_NO);
  parse_ok ("aes_gcm16_256-esn-noesn", IKE_PROTO_ESP, &ours);
  select_ok (&ours, &peer, IKE_PROPOSAL_PEER_ORDER, &chosen);
  g_assert_cmpuint (ike_proposal_get (&chosen, IKE_TRANSFORM_ESN)->id, ==, IKE_ESN_YES);
}

/* Whatever a responder chooses from an initiator's offer, the initiator
 * accepts as its own: across many configurations and both orders. */
static void
test_select_then_check (void)
{
  static const char *ike[] = {
    "aes_gcm16_256-prfsha256-x25519",
    "aes128-aes256-sha256-sha384-modp2048-ecp256,aes_gcm16_128-prfsha256-ecp256",
    "chacha20poly1305-prfsha512-curve25519,aes256-sha512-ecp521-modp3072",
    "aes256-sha256-modp3072",
  };
  IkeProposalList lists[G_N_ELEMENTS (ike) + 1];

  for (gsize i = 0; i < G_N_ELEMENTS (ike); i++)
    parse_ok (ike[i], IKE_PROTO_IKE, &lists[i]);
  ike_proposal_list_default (IKE_PROTO_IKE, &lists[G_N_ELEMENTS (ike)]);
  for (gsize a = 0; a < G_N_ELEMENTS (lists); a++)
    for (gsize b = 0; b < G_N_ELEMENTS (lists); b++)
      for (int order = IKE_PROPOSAL_PEER_ORDER; order <= IKE_PROPOSAL_OUR_ORDER; order++)
        {
          g_autoptr (GError) error = NULL;
          IkeProposal chosen;
          guint index = 99;

          if (!ike_proposal_select (lists[a].proposals, lists[a].n_proposals, lists[b].proposals,
                                    lists[b].n_proposals, order, &chosen, &error))
            {
              /* A configuration always agrees with itself. */
              g_assert_true (a != b);
              g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN);
              continue;
            }
          g_assert_true (ike_proposal_check_reply (lists[b].proposals, lists[b].n_proposals,
                                                   &chosen, &index, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (lists[b].proposals[index].number, ==, chosen.number);
        }
}

/* ---- the initiator's check ---- */

static void
reply_rejected (const IkeProposalList *ours, const IkeProposal *reply, const char *says)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (
      ike_proposal_check_reply (ours->proposals, ours->n_proposals, reply, NULL, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_PEER_CHANGED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, says));
}

static void
test_check_reply (void)
{
  IkeProposalList ours;
  IkeProposal good = one ("aes256-sha384-modp3072", IKE_PROTO_IKE);
  IkeProposal bad;
  g_autoptr (GError) error = NULL;
  guint index = 99;

  ike_proposal_list_default (IKE_PROTO_IKE, &ours);
  good.number = 2;
  g_assert_true (
      ike_proposal_check_reply (ours.proposals, ours.n_proposals, &good, &index, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, 1);

  bad = good;
  bad.number = 1; /* a CBC reply to our AEAD proposal */
  reply_rejected (&ours, &bad, "was not offered");
  bad.number = 3;
  reply_rejected (&ours, &bad, "proposal number 3 was never offered");
  bad = good;
  bad.protocol = IKE_PROTO_ESP;
  reply_rejected (&ours, &bad, "protocol 3 instead of 1");
  bad = good;
  bad.spi_len = 8;
  reply_rejected (&ours, &bad, "SPI of 8 bytes instead of 0");
  bad = good;
  bad.transforms[0].key_length = 192;
  reply_rejected (&ours, &bad, "transform 12 of type 1 (key length 192) was not offered");
  bad = good;
  bad.transforms[bad.n_transforms++] = (IkeTransform) T (KE, 31, 0);
  reply_rejected (&ours, &bad, "more than one transform of type 4");
  bad = good;
  ike_proposal_remove_type (&bad, IKE_TRANSFORM_KE);
  reply_rejected (&ours, &bad, "no transform of type 4");
  bad = good;
  bad.n_transforms = IKE_MAX_TRANSFORMS + 1;
  reply_rejected (&ours, &bad, "malformed");

  /* An explicit INTEG NONE in the AEAD reply means no integrity: fine. */
  bad = one ("aes_gcm16_128-prfsha256-ecp256", IKE_PROTO_IKE);
  bad.transforms[bad.n_transforms++] = (IkeTransform) T (INTEG, 0, 0);
  g_assert_true (ike_proposal_check_reply (ours.proposals, ours.n_proposals, &bad, &index, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (index, ==, 0);
}

/* ---- KE groups ---- */

static void
test_ke (void)
{
  IkeProposalList ike, esp;
  g_autoptr (GError) error = NULL;

  parse_ok ("aes256-sha256-modp3072-ecp384,aes_gcm16_256-prfsha256-x25519", IKE_PROTO_IKE, &ike);
  g_assert_cmpuint (ike_proposal_first_ke (ike.proposals, ike.n_proposals), ==, IKE_KE_MODP3072);
  parse_ok ("aes_gcm16_256,aes256-sha256-ecp256", IKE_PROTO_ESP, &esp);
  g_assert_cmpuint (ike_proposal_first_ke (esp.proposals, esp.n_proposals), ==, IKE_KE_ECP256);
  g_assert_cmpuint (ike_proposal_first_ke (esp.proposals, 1), ==, IKE_KE_NONE);

  /* INVALID_KE_PAYLOAD: any group of any of our proposals will do. */
  g_assert_true (ike_proposal_retry_ke (ike.proposals, ike.n_proposals, IKE_KE_MODP3072,
                                        IKE_KE_ECP384, &error));
  g_assert_no_error (error);
  g_assert_true (ike_proposal_retry_ke (ike.proposals, ike.n_proposals, IKE_KE_MODP3072,
                                        IKE_KE_CURVE25519, &error));
  g_assert_no_error (error);
  g_assert_false (ike_proposal_retry_ke (ike.proposals, ike.n_proposals, IKE_KE_MODP3072,
                                         IKE_KE_MODP2048, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_INVALID_KE);
  g_clear_error (&error);
  g_assert_false (ike_proposal_retry_ke (ike.proposals, ike.n_proposals, IKE_KE_MODP3072,
                                         IKE_KE_MODP3072, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_INVALID_KE);
  g_clear_error (&error);
  g_assert_false (
      ike_proposal_retry_ke (ike.proposals, ike.n_proposals, IKE_KE_MODP3072, IKE_KE_NONE, &error));
  g_assert_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_INVALID_KE);
}

static void
test_remove_type (void)
{
  IkeProposalList esp;
  g_autofree char *text = NULL;

  ike_proposal_list_default (IKE_PROTO_ESP, &esp);
  for (guint i = 0; i < esp.n_proposals; i++)
    ike_proposal_remove_type (&esp.proposals[i], IKE_TRANSFORM_KE);
  text = ike_proposal_list_format (&esp);
  g_assert_cmpstr (
      text, ==, "aes_gcm16_256-aes_gcm16_128-chacha20poly1305,aes256-aes128-sha256-sha384-sha512");
  g_assert_cmpuint (ike_proposal_first_ke (esp.proposals, esp.n_proposals), ==, IKE_KE_NONE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ike-proposal/parse/examples", test_parse_examples);
  g_test_add_func ("/ike-proposal/parse/several", test_parse_several);
  g_test_add_func ("/ike-proposal/parse/errors", test_parse_errors);
  g_test_add_func ("/ike-proposal/parse/limits", test_parse_limits);
  g_test_add_func ("/ike-proposal/parse/weak-allowed", test_parse_weak_allowed);
  g_test_add_func ("/ike-proposal/format/round-trip", test_format_round_trip);
  g_test_add_func ("/ike-proposal/format/canonical", test_format_canonical);
  g_test_add_func ("/ike-proposal/format/unnamed", test_format_unnamed);
  g_test_add_func ("/ike-proposal/defaults", test_defaults);
  g_test_add_func ("/ike-proposal/select/basic", test_select_basic);
  g_test_add_func ("/ike-proposal/select/order", test_select_order);
  g_test_add_func ("/ike-proposal/select/mismatch", test_select_mismatch);
  g_test_add_func ("/ike-proposal/select/protocol", test_select_protocol);
  g_test_add_func ("/ike-proposal/select/none", test_select_none);
  g_test_add_func ("/ike-proposal/select/esn", test_select_esn);
  g_test_add_func ("/ike-proposal/select/then-check", test_select_then_check);
  g_test_add_func ("/ike-proposal/check-reply", test_check_reply);
  g_test_add_func ("/ike-proposal/ke", test_ke);
  g_test_add_func ("/ike-proposal/remove-type", test_remove_type);
  return g_test_run ();
}
