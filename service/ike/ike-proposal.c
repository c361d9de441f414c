/* Proposal strings: parse, check, format, defaults; see ike-proposal.h.
 * Negotiation is in ike-proposal-select.c. */
#include "ike-proposal.h"

#include <string.h>

GQuark
ike_proposal_error_quark (void)
{
  return g_quark_from_static_string ("ike-proposal-error-quark");
}

typedef enum
{
  ALG_IKE = 1 << 0,  /* may appear in an IKE proposal */
  ALG_ESP = 1 << 1,  /* may appear in an ESP proposal */
  ALG_AEAD = 1 << 2, /* encryption that also authenticates */
  ALG_WEAK = 1 << 3, /* refused without IKE_PROPOSAL_ALLOW_WEAK */
} AlgFlags;

#define ALG_BOTH (ALG_IKE | ALG_ESP)
#define MAX_NAMES 6

typedef struct
{
  const char *names[MAX_NAMES]; /* canonical first, then aliases; NULL-terminated */
  guint8 type;
  guint16 id;
  guint16 key_length;
  guint8 flags;
  /* Integrity: the PRF an IKE proposal uses when it names none, as
   * strongSwan and libreswan do. */
  guint16 prf;
} Algorithm;

#define ENCR(id, len, f, ...)                                                                      \
  {                                                                                                \
    { __VA_ARGS__ }, IKE_TRANSFORM_ENCR, IKE_ENCR_##id, len, f, 0                                  \
  }
#define INTEG(id, prf, f, ...)                                                                     \
  {                                                                                                \
    { __VA_ARGS__ }, IKE_TRANSFORM_INTEG, IKE_INTEG_##id, 0, f, IKE_PRF_##prf                      \
  }
#define PRF(id, f, ...)                                                                            \
  {                                                                                                \
    { __VA_ARGS__ }, IKE_TRANSFORM_PRF, IKE_PRF_##id, 0, f, 0                                      \
  }
#define KE(id, f, ...)                                                                             \
  {                                                                                                \
    { __VA_ARGS__ }, IKE_TRANSFORM_KE, IKE_KE_##id, 0, f, 0                                        \
  }
#define ESN(id, ...)                                                                               \
  {                                                                                                \
    { __VA_ARGS__ }, IKE_TRANSFORM_ESN, IKE_ESN_##id, 0, ALG_ESP, 0                                \
  }

/* Names from libreswan (aes_gcm16_256, sha2_256, dh19) and strongSwan
 * (aes256gcm16, sha256, ecp256) both work.  Groups are those the crypto
 * suite computes; MODP below 2048 only as weak, for old peers. */
static const Algorithm algorithms[] = {
  ENCR (AES_GCM_16, 128, ALG_BOTH | ALG_AEAD, "aes_gcm16_128", "aes128gcm16", "aes128gcm",
        "aes_gcm_128", "aes_gcm128"),
  ENCR (AES_GCM_16, 192, ALG_BOTH | ALG_AEAD, "aes_gcm16_192", "aes192gcm16", "aes192gcm",
        "aes_gcm_192", "aes_gcm192"),
  ENCR (AES_GCM_16, 256, ALG_BOTH | ALG_AEAD, "aes_gcm16_256", "aes256gcm16", "aes256gcm",
        "aes_gcm_256", "aes_gcm256"),
  ENCR (AES_GCM_12, 128, ALG_BOTH | ALG_AEAD | ALG_WEAK, "aes_gcm12_128", "aes128gcm12"),
  ENCR (AES_GCM_12, 256, ALG_BOTH | ALG_AEAD | ALG_WEAK, "aes_gcm12_256", "aes256gcm12"),
  ENCR (AES_GCM_8, 128, ALG_BOTH | ALG_AEAD | ALG_WEAK, "aes_gcm8_128", "aes128gcm8"),
  ENCR (AES_GCM_8, 256, ALG_BOTH | ALG_AEAD | ALG_WEAK, "aes_gcm8_256", "aes256gcm8"),
  ENCR (CHACHA20_POLY1305, 0, ALG_BOTH | ALG_AEAD, "chacha20poly1305", "chacha20_poly1305"),
  ENCR (AES_CBC, 128, ALG_BOTH, "aes128", "aes", "aes_cbc_128", "aes128cbc"),
  ENCR (AES_CBC, 192, ALG_BOTH, "aes192", "aes_cbc_192", "aes192cbc"),
  ENCR (AES_CBC, 256, ALG_BOTH, "aes256", "aes_cbc_256", "aes256cbc"),
  ENCR (3DES, 0, ALG_BOTH | ALG_WEAK, "3des", "3des_cbc"),
  ENCR (NULL, 0, ALG_ESP | ALG_WEAK, "null", "null_enc"),
  INTEG (HMAC_SHA2_256_128, HMAC_SHA2_256, ALG_BOTH, "sha256", "sha2_256", "sha2", "sha256_128",
         "hmac_sha2_256_128"),
  INTEG (HMAC_SHA2_384_192, HMAC_SHA2_384, ALG_BOTH, "sha384", "sha2_384", "sha384_192",
         "hmac_sha2_384_192"),
  INTEG (HMAC_SHA2_512_256, HMAC_SHA2_512, ALG_BOTH, "sha512", "sha2_512", "sha512_256",
         "hmac_sha2_512_256"),
  INTEG (HMAC_SHA1_96, HMAC_SHA1, ALG_BOTH | ALG_WEAK, "sha1", "sha", "sha1_96"),
  INTEG (HMAC_MD5_96, HMAC_MD5, ALG_BOTH | ALG_WEAK, "md5", "md5_96"),
  PRF (HMAC_SHA2_256, ALG_IKE, "prfsha256", "prfsha2_256"),
  PRF (HMAC_SHA2_384, ALG_IKE, "prfsha384", "prfsha2_384"),
  PRF (HMAC_SHA2_512, ALG_IKE, "prfsha512", "prfsha2_512"),
  PRF (HMAC_SHA1, ALG_IKE | ALG_WEAK, "prfsha1", "prfsha"),
  PRF (HMAC_MD5, ALG_IKE | ALG_WEAK, "prfmd5"),
  KE (CURVE25519, ALG_BOTH, "x25519", "curve25519", "dh31"),
  KE (ECP256, ALG_BOTH, "ecp256", "dh19"),
  KE (ECP384, ALG_BOTH, "ecp384", "dh20"),
  KE (ECP521, ALG_BOTH, "ecp521", "dh21"),
  KE (MODP2048, ALG_BOTH, "modp2048", "dh14"),
  KE (MODP3072, ALG_BOTH, "modp3072", "dh15"),
  KE (MODP4096, ALG_BOTH, "modp4096", "dh16"),
  KE (MODP1536, ALG_BOTH | ALG_WEAK, "modp1536", "dh5"),
  KE (MODP1024, ALG_BOTH | ALG_WEAK, "modp1024", "dh2"),
  ESN (YES, "esn"),
  ESN (NO, "noesn"),
};

/* The defaults, in canonical form (format (parse (x)) == x). */
#define STRONG_KE "x25519-ecp256-ecp384-ecp521-modp3072-modp4096"
static const char default_ike[]
    = "aes_gcm16_256-aes_gcm16_128-chacha20poly1305-prfsha256-prfsha384-prfsha512-" STRONG_KE
      ",aes256-aes128-sha256-sha384-sha512-prfsha256-prfsha384-prfsha512-" STRONG_KE;
static const char default_esp[] = "aes_gcm16_256-aes_gcm16_128-chacha20poly1305-" STRONG_KE
                                  ",aes256-aes128-sha256-sha384-sha512-" STRONG_KE;

/* format() writes kinds in the order people write them. */
static const guint8 format_order[] = {
  IKE_TRANSFORM_ENCR, IKE_TRANSFORM_INTEG, IKE_TRANSFORM_PRF, IKE_TRANSFORM_KE, IKE_TRANSFORM_ESN,
};

static const Algorithm *
algorithm_by_name (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    for (gsize j = 0; j < MAX_NAMES && algorithms[i].names[j] != NULL; j++)
      if (g_ascii_strcasecmp (algorithms[i].names[j], name) == 0)
        return &algorithms[i];
  return NULL;
}

static const Algorithm *
algorithm_by_transform (guint8 type, guint16 id, guint16 key_length)
{
  for (gsize i = 0; i < G_N_ELEMENTS (algorithms); i++)
    if (algorithms[i].type == type && algorithms[i].id == id
        && algorithms[i].key_length == key_length)
      return &algorithms[i];
  return NULL;
}

static const char *
protocol_name (IkeProtocolId protocol)
{
  return protocol == IKE_PROTO_IKE ? "IKE" : "ESP";
}

/* ---- proposal helpers ---- */

gboolean
ike_proposal_equal (const IkeProposal *a, const IkeProposal *b)
{
  if (a->number != b->number || a->protocol != b->protocol || a->spi_len != b->spi_len
      || a->n_transforms != b->n_transforms || a->spi_len > IKE_MAX_SPI_LEN
      || a->n_transforms > IKE_MAX_TRANSFORMS || memcmp (a->spi, b->spi, a->spi_len) != 0)
    return FALSE;
  for (guint i = 0; i < a->n_transforms; i++)
    if (a->transforms[i].type != b->transforms[i].type || a->transforms[i].id != b->transforms[i].id
        || a->transforms[i].key_length != b->transforms[i].key_length)
      return FALSE;
  return TRUE;
}

gboolean
ike_proposal_list_equal (const IkeProposalList *a, const IkeProposalList *b)
{
  if (a->n_proposals != b->n_proposals || a->n_proposals > IKE_MAX_PROPOSALS)
    return FALSE;
  for (guint i = 0; i < a->n_proposals; i++)
    if (!ike_proposal_equal (&a->proposals[i], &b->proposals[i]))
      return FALSE;
  return TRUE;
}

const IkeTransform *
ike_proposal_get (const IkeProposal *proposal, IkeTransformType type)
{
  for (guint i = 0; i < proposal->n_transforms && i < IKE_MAX_TRANSFORMS; i++)
    if (proposal->transforms[i].type == type)
      return &proposal->transforms[i];
  return NULL;
}

void
ike_proposal_remove_type (IkeProposal *proposal, IkeTransformType type)
{
  guint kept = 0;

  for (guint i = 0; i < proposal->n_transforms && i < IKE_MAX_TRANSFORMS; i++)
    if (proposal->transforms[i].type != type)
      proposal->transforms[kept++] = proposal->transforms[i];
  proposal->n_transforms = kept;
}

static guint
count_type (const IkeProposal *p, guint8 type)
{
  guint n = 0;

  for (guint i = 0; i < p->n_transforms; i++)
    n += p->transforms[i].type == type;
  return n;
}

static gboolean
contains (const IkeProposal *p, const IkeTransform *t)
{
  for (guint i = 0; i < p->n_transforms; i++)
    if (p->transforms[i].type == t->type && p->transforms[i].id == t->id
        && p->transforms[i].key_length == t->key_length)
      return TRUE;
  return FALSE;
}

/* Keep transforms grouped by type, in the order given within a type: the
 * order a peer reads as our preference. */
static gboolean
add_transform (IkeProposal *p, guint8 type, guint16 id, guint16 key_length)
{
  IkeTransform t = { type, id, key_length };
  guint at = p->n_transforms;

  if (contains (p, &t) || p->n_transforms == IKE_MAX_TRANSFORMS)
    return FALSE;
  while (at > 0 && p->transforms[at - 1].type > type)
    at--;
  memmove (&p->transforms[at + 1], &p->transforms[at],
           (p->n_transforms - at) * sizeof (IkeTransform));
  p->transforms[at] = t;
  p->n_transforms++;
  return TRUE;
}

/* ---- parsing ---- */

typedef struct
{
  IkeProtocolId protocol;
  IkeProposalFlags flags;
  GPtrArray *weak; /* canonical names of the weak algorithms let through */
  guint number;
  const char *text; /* the proposal being parsed, for messages */
} Parser;

G_GNUC_PRINTF (4, 5)
static gboolean
parse_error (Parser *parser, GError **error, IkeProposalError code, const char *format, ...)
{
  g_autofree char *why = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, IKE_PROPOSAL_ERROR, code, "%s proposal %u (\"%s\"): %s",
               protocol_name (parser->protocol), parser->number, parser->text, why);
  return FALSE;
}

static gboolean
too_many (Parser *parser, GError **error)
{
  return parse_error (parser, error, IKE_PROPOSAL_ERROR_SYNTAX,
                      "more than %d algorithms in one proposal", IKE_MAX_TRANSFORMS);
}

static void
note_weak (Parser *parser, const Algorithm *alg)
{
  if (!g_ptr_array_find_with_equal_func (parser->weak, alg->names[0], g_str_equal, NULL))
    g_ptr_array_add (parser->weak, (gpointer) alg->names[0]);
}

static gboolean
parse_token (Parser *parser, const char *token, IkeProposal *p, GError **error)
{
  guint8 allowed = parser->protocol == IKE_PROTO_IKE ? ALG_IKE : ALG_ESP;
  const Algorithm *alg;

  if (*token == '\0')
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_SYNTAX, "empty algorithm name");
  alg = algorithm_by_name (token);
  if (alg == NULL)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_UNKNOWN, "unknown algorithm \"%s\"",
                        token);
  if (!(alg->flags & allowed))
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_CONFLICT,
                        "\"%s\" has no place in an %s proposal", token,
                        protocol_name (parser->protocol));
  if ((alg->flags & ALG_WEAK) && !(parser->flags & IKE_PROPOSAL_ALLOW_WEAK))
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_WEAK,
                        "\"%s\" is weak and refused unless weak algorithms are allowed", token);
  if (alg->flags & ALG_WEAK)
    note_weak (parser, alg);
  if (contains (p, &(IkeTransform){ alg->type, alg->id, alg->key_length }))
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_SYNTAX, "\"%s\" given twice", token);
  if (!add_transform (p, alg->type, alg->id, alg->key_length))
    return too_many (parser, error);
  return TRUE;
}

static guint
count_aead (const IkeProposal *p)
{
  guint n = 0;

  for (guint i = 0; i < p->n_transforms; i++)
    {
      const IkeTransform *t = &p->transforms[i];
      const Algorithm *alg = algorithm_by_transform (t->type, t->id, t->key_length);

      n += t->type == IKE_TRANSFORM_ENCR && alg != NULL && (alg->flags & ALG_AEAD);
    }
  return n;
}

/* An IKE proposal with integrity but no PRF takes the PRF of each
 * integrity algorithm, in the same order. */
static gboolean
derive_prfs (Parser *parser, IkeProposal *p, GError **error)
{
  IkeProposal integ = *p;

  for (guint i = 0; i < integ.n_transforms; i++)
    {
      const IkeTransform *t = &integ.transforms[i];
      const Algorithm *alg = algorithm_by_transform (t->type, t->id, t->key_length);

      if (t->type != IKE_TRANSFORM_INTEG || alg == NULL)
        continue;
      if (p->n_transforms == IKE_MAX_TRANSFORMS)
        return too_many (parser, error);
      add_transform (p, IKE_TRANSFORM_PRF, alg->prf, 0);
    }
  return TRUE;
}

/* The kinds a proposal needs, and those that exclude each other. */
static gboolean
check_kinds (Parser *parser, IkeProposal *p, GError **error)
{
  guint encr = count_type (p, IKE_TRANSFORM_ENCR), aead = count_aead (p);
  guint integ = count_type (p, IKE_TRANSFORM_INTEG);
  gboolean ike = parser->protocol == IKE_PROTO_IKE;

  if (encr == 0)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_INCOMPLETE, "no encryption algorithm");
  if (aead > 0 && aead < encr)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_CONFLICT,
                        "AEAD and non-AEAD encryption mixed (give them as separate proposals)");
  if (aead > 0 && integ > 0)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_CONFLICT,
                        "AEAD encryption combined with an integrity algorithm");
  if (aead == 0 && integ == 0)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_INCOMPLETE,
                        "encryption without an integrity algorithm");
  if (ike && count_type (p, IKE_TRANSFORM_KE) == 0)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_INCOMPLETE, "no key exchange group");
  if (ike && aead > 0 && count_type (p, IKE_TRANSFORM_PRF) == 0)
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_INCOMPLETE,
                        "AEAD needs a PRF, e.g. prfsha256");
  if (ike && count_type (p, IKE_TRANSFORM_PRF) == 0)
    return derive_prfs (parser, p, error);
  /* RFC 7296 §3.3.2: ESP proposals always carry ESN; no ESN by default. */
  if (!ike && count_type (p, IKE_TRANSFORM_ESN) == 0
      && !add_transform (p, IKE_TRANSFORM_ESN, IKE_ESN_NO, 0))
    return too_many (parser, error);
  return TRUE;
}

static gboolean
parse_proposal (Parser *parser, char *text, IkeProposal *p, GError **error)
{
  g_auto (GStrv) tokens = NULL;

  parser->text = g_strstrip (text);
  if (*parser->text == '\0')
    return parse_error (parser, error, IKE_PROPOSAL_ERROR_SYNTAX, "empty proposal");
  *p = (IkeProposal){ .number = parser->number, .protocol = parser->protocol };
  tokens = g_strsplit_set (parser->text, "-;+", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    if (!parse_token (parser, g_strstrip (tokens[i]), p, error))
      return FALSE;
  return check_kinds (parser, p, error);
}

static gboolean
check_text (const char *text, IkeProtocolId protocol, GError **error)
{
  if (protocol != IKE_PROTO_IKE && protocol != IKE_PROTO_ESP)
    g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_CONFLICT,
                 "proposals for protocol %d are not supported (IKE or ESP)", (int) protocol);
  else if (strlen (text) > IKE_PROPOSAL_MAX_TEXT)
    g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX,
                 "proposal text longer than %d characters", IKE_PROPOSAL_MAX_TEXT);
  else if (!g_utf8_validate (text, -1, NULL))
    g_set_error_literal (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX,
                         "proposal text is not UTF-8");
  else
    return TRUE;
  return FALSE;
}

static gboolean
parse_all (Parser *parser, const char *text, IkeProposalList *list, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  list->n_proposals = 0;
  if (parts[0] == NULL)
    {
      g_set_error_literal (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX, "no proposals");
      return FALSE;
    }
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (i == IKE_MAX_PROPOSALS)
        {
          g_set_error (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_SYNTAX,
                       "more than %d proposals", IKE_MAX_PROPOSALS);
          return FALSE;
        }
      parser->number = i + 1;
      if (!parse_proposal (parser, parts[i], &list->proposals[i], error))
        return FALSE;
      list->n_proposals = i + 1;
    }
  return TRUE;
}

static char *
weak_warning (GPtrArray *weak)
{
  GString *s;

  if (weak->len == 0)
    return NULL;
  s = g_string_new ("weak algorithms allowed by configuration: ");
  for (guint i = 0; i < weak->len; i++)
    g_string_append_printf (s, "%s%s", i > 0 ? ", " : "", (const char *) weak->pdata[i]);
  return g_string_free (s, FALSE);
}

gboolean
ike_proposal_list_parse (const char *text, IkeProtocolId protocol, IkeProposalFlags flags,
                         IkeProposalList *list, char **warning, GError **error)
{
  g_autoptr (GPtrArray) weak = g_ptr_array_new ();
  Parser parser = { protocol, flags, weak, 0, text };
  IkeProposalList parsed;

  if (!check_text (text, protocol, error) || !parse_all (&parser, text, &parsed, error))
    return FALSE;
  *list = parsed;
  if (warning != NULL)
    *warning = weak_warning (weak);
  return TRUE;
}

/* ---- formatting ---- */

/* A lone "no ESN" is the default and goes unsaid. */
static gboolean
implied (const IkeProposal *p, const IkeTransform *t)
{
  return t->type == IKE_TRANSFORM_ESN && t->id == IKE_ESN_NO
         && count_type (p, IKE_TRANSFORM_ESN) == 1;
}

char *
ike_proposal_format (const IkeProposal *proposal)
{
  g_autoptr (GString) s = g_string_new (NULL);
  guint written = 0;

  if (proposal->n_transforms > IKE_MAX_TRANSFORMS)
    return NULL;
  /* A transform of a type we never write has no name. */
  for (guint i = 0; i < proposal->n_transforms; i++)
    if (memchr (format_order, proposal->transforms[i].type, sizeof format_order) == NULL)
      return NULL;
  for (gsize k = 0; k < G_N_ELEMENTS (format_order); k++)
    for (guint i = 0; i < proposal->n_transforms; i++)
      {
        const IkeTransform *t = &proposal->transforms[i];
        const Algorithm *alg = algorithm_by_transform (t->type, t->id, t->key_length);

        if (t->type != format_order[k] || implied (proposal, t))
          continue;
        if (alg == NULL)
          return NULL;
        g_string_append_printf (s, "%s%s", written++ > 0 ? "-" : "", alg->names[0]);
      }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
ike_proposal_list_format (const IkeProposalList *list)
{
  g_autoptr (GString) s = g_string_new (NULL);

  if (list->n_proposals > IKE_MAX_PROPOSALS)
    return NULL;
  for (guint i = 0; i < list->n_proposals; i++)
    {
      g_autofree char *one = ike_proposal_format (&list->proposals[i]);

      if (one == NULL)
        return NULL;
      g_string_append_printf (s, "%s%s", i > 0 ? "," : "", one);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- defaults ---- */

const char *
ike_proposal_default_text (IkeProtocolId protocol)
{
  return protocol == IKE_PROTO_IKE ? default_ike : default_esp;
}

void
ike_proposal_list_default (IkeProtocolId protocol, IkeProposalList *list)
{
  g_autoptr (GError) error = NULL;

  /* Constant text that the unit tests parse: failing here is a bug. */
  if (!ike_proposal_list_parse (ike_proposal_default_text (protocol), protocol,
                                IKE_PROPOSAL_FLAGS_NONE, list, NULL, &error))
    g_error ("default %s proposals: %s", protocol_name (protocol), error->message);
}
