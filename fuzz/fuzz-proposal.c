/* Fuzz target: proposal strings (from users) and negotiation against
 * proposals (from peers), plus the RFC 7427 AlgorithmIdentifier decoder
 * (from peers' AUTH payloads).
 *
 * Byte 0 chooses what the rest is: bit 0 the protocol (0 IKE, 1 ESP), bit 1
 * allows weak algorithms, bit 2 selects our order instead of the peer's,
 * bits 3-4 the mode:
 *   0  our proposal text, '\n', the peer's proposal text
 *   1  our proposal text, '\n', raw peer proposals (see raw_proposals)
 *   2  Authentication Data of AUTH method 14
 * Printable seeds: '@' IKE texts, 'A' ESP texts, 'H'/'I' raw peers, 'P'
 * AlgorithmIdentifiers.
 *
 * Beyond not crashing, every input checks the invariants the engine relies
 * on, aborting when one breaks: parse (format (x)) == x; a responder's
 * choice is accepted by the initiator whose offer it came from; an
 * AlgorithmIdentifier we send decodes to its own scheme. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike-proposal.h"
#include "ike-sign.h"
#include "fuzz.h"

/* Parse TEXT; when it parses, it must survive formatting unchanged. */
static gboolean
parse_checked (const char *text, IkeProtocolId protocol, IkeProposalFlags flags,
               IkeProposalList *list)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *warning = NULL;
  g_autofree char *formatted = NULL;
  g_autofree char *again = NULL;
  IkeProposalList reparsed;

  if (!ike_proposal_list_parse (text, protocol, flags, list, &warning, &error))
    {
      CHECK (error != NULL && error->domain == IKE_PROPOSAL_ERROR);
      return FALSE;
    }
  CHECK (warning == NULL || (flags & IKE_PROPOSAL_ALLOW_WEAK));
  formatted = ike_proposal_list_format (list);
  CHECK (formatted != NULL);
  CHECK (ike_proposal_list_parse (formatted, protocol, flags, &reparsed, NULL, NULL));
  CHECK (ike_proposal_list_equal (list, &reparsed));
  again = ike_proposal_list_format (&reparsed);
  CHECK (g_strcmp0 (formatted, again) == 0);
  return TRUE;
}

/* Peer proposals straight from bytes, including what no parser makes:
 * per proposal a number, then (spi_len:2 bits, unused:1, n_transforms:5),
 * then 3 bytes per transform: type (mod 14), id, key length selector. */
static guint
raw_proposals (const guint8 *d, gsize n, IkeProtocolId protocol, IkeProposal *out)
{
  static const guint16 key_lengths[] = { 0, 128, 192, 256 };
  static const guint8 spi_lens[] = { 0, 4, 8, 4 };
  guint count = 0;

  while (n >= 2 && count < IKE_MAX_PROPOSALS)
    {
      IkeProposal *p = &out[count++];
      guint n_transforms = d[1] & 0x1f;

      *p = (IkeProposal){ .number = d[0], .protocol = protocol, .spi_len = spi_lens[d[1] >> 6] };
      memset (p->spi, 0xab, p->spi_len);
      d += 2, n -= 2;
      for (; n_transforms > 0 && n >= 3; n_transforms--, d += 3, n -= 3)
        p->transforms[p->n_transforms++] = (IkeTransform){ d[0] % 14, d[1], key_lengths[d[2] & 3] };
    }
  return count;
}

static void
check_choice (const IkeProposal *ours, guint n_ours, const IkeProposal *peer, guint n_peer,
              IkeProposalOrder order)
{
  g_autoptr (GError) error = NULL;
  IkeProposal chosen;
  guint index = G_MAXUINT;

  if (!ike_proposal_select (ours, n_ours, peer, n_peer, order, &chosen, &error))
    {
      CHECK (g_error_matches (error, IKE_PROPOSAL_ERROR, IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN));
      return;
    }
  CHECK (chosen.n_transforms <= IKE_MAX_TRANSFORMS);
  /* The peer, as initiator, must take our choice as its own offer; it
   * cannot tell which of several proposals with one number we chose from,
   * so only lists with distinct numbers are held to it. */
  for (guint i = 0; i < n_peer; i++)
    for (guint j = 0; j < i; j++)
      if (peer[i].number == peer[j].number)
        return;
  CHECK (ike_proposal_check_reply (peer, n_peer, &chosen, &index, NULL));
  CHECK (index < n_peer && peer[index].number == chosen.number);
}

static void
check_ke (const IkeProposalList *ours)
{
  guint16 first = ike_proposal_first_ke (ours->proposals, ours->n_proposals);

  if (first == IKE_KE_NONE)
    return;
  CHECK (ike_proposal_retry_ke (ours->proposals, ours->n_proposals, IKE_KE_NONE, first, NULL));
  CHECK (!ike_proposal_retry_ke (ours->proposals, ours->n_proposals, first, first, NULL));
}

static void
fuzz_proposals (guint8 mode, const char *text, gsize size)
{
  IkeProtocolId protocol = (mode & 1) ? IKE_PROTO_ESP : IKE_PROTO_IKE;
  IkeProposalFlags flags = (mode & 2) ? IKE_PROPOSAL_ALLOW_WEAK : IKE_PROPOSAL_FLAGS_NONE;
  IkeProposalOrder order = (mode & 4) ? IKE_PROPOSAL_OUR_ORDER : IKE_PROPOSAL_PEER_ORDER;
  const char *newline = memchr (text, '\n', size);
  g_autofree char *our_text = g_strndup (text, newline != NULL ? (gsize) (newline - text) : size);
  const char *rest = newline != NULL ? newline + 1 : text + size;
  gsize rest_len = size - (gsize) (rest - text);
  IkeProposalList ours, peer;

  if (!parse_checked (our_text, protocol, flags, &ours))
    ike_proposal_list_default (protocol, &ours);
  check_ke (&ours);
  if (((mode >> 3) & 3) == 1)
    peer.n_proposals = raw_proposals ((const guint8 *) rest, rest_len, protocol, peer.proposals);
  else
    {
      g_autofree char *peer_text = g_strndup (rest, rest_len);

      if (!parse_checked (peer_text, protocol, flags, &peer))
        return;
    }
  check_choice (ours.proposals, ours.n_proposals, peer.proposals, peer.n_proposals, order);
  check_choice (peer.proposals, peer.n_proposals, ours.proposals, ours.n_proposals, order);
}

static void
fuzz_algorithm_id (const guint8 *data, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ours = NULL;
  IkeSignScheme scheme = IKE_SIGN_NONE, again = IKE_SIGN_NONE;
  gsize consumed = 0, len;
  const guint8 *p;

  if (!ike_sign_algorithm_id_decode (data, size, &scheme, &consumed, &error))
    {
      CHECK (error != NULL);
      return;
    }
  CHECK (consumed >= 3 && consumed <= size);
  CHECK (ike_sign_scheme_to_string (scheme) != NULL);
  ours = ike_sign_algorithm_id_encode (scheme, NULL);
  CHECK (ours != NULL);
  p = g_bytes_get_data (ours, &len);
  CHECK (ike_sign_algorithm_id_decode (p, len, &again, &consumed, NULL));
  CHECK (again == scheme && consumed == len);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1 || size > IKE_PROPOSAL_MAX_TEXT * 2)
    return 0;
  if (((data[0] >> 3) & 3) == 2)
    fuzz_algorithm_id (data + 1, size - 1);
  else
    fuzz_proposals (data[0], (const char *) data + 1, size - 1);
  return 0;
}
