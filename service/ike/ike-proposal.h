/* Proposals: the strings users write, and negotiation (RFC 7296 §2.7).
 *
 * Syntax, as in libreswan and strongSwan: proposals are separated by ',';
 * a proposal is algorithm names separated by '-' (or ';', libreswan's old
 * separator before the DH group); '+' joins alternatives of one kind
 * (libreswan), and repeating a kind does the same (strongSwan):
 *
 *   aes_gcm16_256-prfsha256-x25519            (IKE, AEAD)
 *   aes256gcm16-prfsha384-ecp384              (the same, strongSwan names)
 *   aes256-sha256-modp3072                    (IKE: the PRF follows sha256)
 *   chacha20poly1305-prfsha512-curve25519
 *   aes_gcm16_256, aes256-sha256-esn-x25519   (ESP; a group means PFS)
 *
 * Names are case-insensitive; format() writes each algorithm's canonical
 * name (the first in the table), and parse (format (list)) == list.
 *
 * Weak algorithms (SHA-1, MD5, 3DES, NULL encryption, MODP below 2048,
 * short GCM tags) are refused unless IKE_PROPOSAL_ALLOW_WEAK is given;
 * then they are accepted and named in a warning for the caller to log. */
#pragma once

#include <glib.h>

#include "ike-types.h"

G_BEGIN_DECLS

#define IKE_PROPOSAL_ERROR (ike_proposal_error_quark ())
GQuark ike_proposal_error_quark (void);

typedef enum
{
  IKE_PROPOSAL_ERROR_SYNTAX,     /* empty name, too long, too many proposals or transforms */
  IKE_PROPOSAL_ERROR_UNKNOWN,    /* no algorithm of that name */
  IKE_PROPOSAL_ERROR_WEAK,       /* weak algorithm without IKE_PROPOSAL_ALLOW_WEAK */
  IKE_PROPOSAL_ERROR_INCOMPLETE, /* a required kind is missing */
  IKE_PROPOSAL_ERROR_CONFLICT,   /* kinds that do not go together, or not in this protocol */
  /* Negotiation; the first maps to the NO_PROPOSAL_CHOSEN notify. */
  IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN,
  IKE_PROPOSAL_ERROR_PEER_CHANGED, /* a reply that is not one of our offers, reduced */
  IKE_PROPOSAL_ERROR_INVALID_KE,   /* INVALID_KE_PAYLOAD names a group we cannot use */
} IkeProposalError;

typedef enum
{
  IKE_PROPOSAL_FLAGS_NONE = 0,
  IKE_PROPOSAL_ALLOW_WEAK = 1 << 0,
} IkeProposalFlags;

/* Proposal numbers are 1..n in list order; SPIs are left empty for the
 * engine to fill in. */
typedef struct
{
  guint n_proposals;
  IkeProposal proposals[IKE_MAX_PROPOSALS];
} IkeProposalList;

/* Longest string parse() reads; a configuration never needs more. */
#define IKE_PROPOSAL_MAX_TEXT 4096

/* PROTOCOL is IKE_PROTO_IKE or IKE_PROTO_ESP.  On success *WARNING (if not
 * NULL) is NULL or names the weak algorithms that ALLOW_WEAK let through. */
gboolean ike_proposal_list_parse (const char *text, IkeProtocolId protocol, IkeProposalFlags flags,
                                  IkeProposalList *list, char **warning, GError **error);

/* Canonical text, e.g. for status output; NULL for a transform we have no
 * name for (only possible for proposals that did not come from parse). */
char *ike_proposal_format (const IkeProposal *proposal);
char *ike_proposal_list_format (const IkeProposalList *list);

/* Strong defaults (DESIGN.md §6): AEAD first (AES-GCM-16 256/128,
 * ChaCha20-Poly1305), then AES-CBC with HMAC-SHA2; X25519 and ECP before
 * MODP, MODP 3072 at least; for ESP the same groups give PFS. */
const char *ike_proposal_default_text (IkeProtocolId protocol);
void ike_proposal_list_default (IkeProtocolId protocol, IkeProposalList *list);

gboolean ike_proposal_equal (const IkeProposal *a, const IkeProposal *b);
gboolean ike_proposal_list_equal (const IkeProposalList *a, const IkeProposalList *b);

/* The first transform of TYPE, or NULL. */
const IkeTransform *ike_proposal_get (const IkeProposal *proposal, IkeTransformType type);

/* PROPOSAL without any transform of TYPE: the Child SA offered in IKE_AUTH
 * carries no KE (RFC 7296 §1.2), though the same ESP list asks for PFS
 * when rekeying. */
void ike_proposal_remove_type (IkeProposal *proposal, IkeTransformType type);

/* ---- negotiation (RFC 7296 §2.7) ---- */

/* Whose order decides when several proposals (or several transforms of a
 * type) would do.  RFC 7296 §2.7 has the responder pick from the
 * initiator's list as the initiator ordered it: IKE_PROPOSAL_PEER_ORDER.
 * IKE_PROPOSAL_OUR_ORDER follows our configuration instead (strongSwan's
 * default), for an operator who wants the strongest common suite. */
typedef enum
{
  IKE_PROPOSAL_PEER_ORDER,
  IKE_PROPOSAL_OUR_ORDER,
} IkeProposalOrder;

/* Responder: choose from the initiator's PEER proposals the first that one
 * of OURS accepts.  Acceptable: same protocol; every transform type of
 * ours has a transform in the peer's proposal equal in id and key length;
 * and the peer's proposal has no type we lack (the optional types INTEG,
 * KE and additional KE may be left out by either side only where that side
 * offers NONE among them).  *CHOSEN gets one transform per type (none for
 * a type settled as NONE), with the peer's proposal number and SPI.
 * Fails with IKE_PROPOSAL_ERROR_NO_PROPOSAL_CHOSEN. */
gboolean ike_proposal_select (const IkeProposal *ours, guint n_ours, const IkeProposal *peer,
                              guint n_peer, IkeProposalOrder order, IkeProposal *chosen,
                              GError **error);

/* Initiator: REPLY must be one of OURS (by proposal number) reduced to at
 * most one transform per type, each one we offered, none of our types
 * missing unless we offered NONE for it.  *INDEX (may be NULL) is its
 * position in OURS.  Fails with IKE_PROPOSAL_ERROR_PEER_CHANGED. */
gboolean ike_proposal_check_reply (const IkeProposal *ours, guint n_ours, const IkeProposal *reply,
                                   guint *index, GError **error);

/* The group for our first KE payload: the first group of our first
 * proposal that has one; IKE_KE_NONE if none does. */
guint16 ike_proposal_first_ke (const IkeProposal *ours, guint n_ours);

/* After INVALID_KE_PAYLOAD naming REQUESTED (we sent SENT): REQUESTED if
 * one of our proposals offers it, else IKE_PROPOSAL_ERROR_INVALID_KE (also
 * when it is the group we sent, which no honest responder asks for). */
gboolean ike_proposal_retry_ke (const IkeProposal *ours, guint n_ours, guint16 sent,
                                guint16 requested, GError **error);

G_END_DECLS
