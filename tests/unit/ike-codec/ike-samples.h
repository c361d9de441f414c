/* Sample IKEv2 messages and inner chains built with the codec's builders:
 * the shapes the engine will send (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA,
 * INFORMATIONAL, fragments) and every payload type.  Shared by the unit
 * tests, the tshark judge and the fuzz seed corpus. */
#pragma once

#include "ike-msg.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  GBytes *bytes;
  guint8 first; /* inner chains: the first payload type */
  /* The payload types tshark should list, in order (messages only). */
  GArray *types; /* of guint8 */
} IkeSample;

void ike_sample_free (IkeSample *sample);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (IkeSample, ike_sample_free)

/* Whole messages, as sent on UDP 500 (GPtrArray of IkeSample). */
GPtrArray *ike_samples_messages (void);
/* Decrypted SK contents (GPtrArray of IkeSample). */
GPtrArray *ike_samples_inner (void);

/* A deterministic byte pattern of @len ≤ 4096 bytes: stands in for nonces,
 * keys, hashes and signatures. */
const guint8 *ike_sample_pattern (guint8 seed, gsize len);

/* Test-only: a message whose chain is @inner in cleartext.  The codec can
 * never produce one (AUTH and friends only go inside SK), which is why the
 * header is written here by hand; tshark decodes it like any other. */
GBytes *ike_sample_clear_message (const IkeSample *inner);

G_END_DECLS
