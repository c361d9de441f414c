/* service/policy/: opportunistic encryption (OE) groups and their kernel
 * footprint (DESIGN.md §4, issue 5).
 *
 * Three layers, each usable (and tested) alone:
 *
 *   groups     the five libreswan group files, parsed from a buffer (fuzzed)
 *              or from <dir>/policies/; bad lines are reported and skipped
 *   footprint  a pure function from groups to the desired set of kernel
 *              policies (PolicySet), and policy_apply () that brings the
 *              kernel there through an XfrmDriver touching only what changed
 *   decisions  pure functions: what a kernel ACQUIRE means (initiate OE to a
 *              host, which shunts meanwhile and after a failure) and whether
 *              an IKE_SA_INIT from an unknown peer may be answered
 *
 * The daemon (not this library) owns the instances: the IKE negotiation,
 * the host-to-host SAs and policies, and installing the shunts that the
 * decisions describe.
 *
 * ---- Kernel footprint ----
 *
 * Each group line becomes policies of the whole address space on our side
 * ("any" local address) against the line's CIDR on the other:
 *
 *   group              out                        in
 *   block              drop                       drop
 *   clear              pass                       pass
 *   private            trap (ESP, transport)      ESP required (allow+template)
 *   private-or-clear   trap (ESP, transport)      pass
 *   clear-or-private   none: respond only         none
 *
 * Inbound: a trap only catches what we send, so `private` also gets an
 * inbound policy that accepts only what came through ESP: plaintext from a
 * private peer is refused, as its name promises.  libreswan installs
 * inbound policies only with an instance (once the SA is up), so plaintext
 * from a private peer is accepted before that; we chose to fail closed.
 * `private-or-clear` accepts clear text by definition, and gets an inbound
 * pass so that a line of it carved out of a wider `private` range wins in
 * both directions, as the longest prefix does outbound.  `clear` gets an
 * inbound pass for the same reason, `block` an inbound drop.  No fwd
 * policies: OE here is host to host, not a gateway.
 *
 * Never covered, whatever the groups say:
 *   - our own IKE: the daemon's UDP sockets carry per-socket bypass policies
 *     (service/net/), which the kernel consults before these;
 *   - loopback (127.0.0.0/8, ::1): a pass in both directions at the highest
 *     precedence (IPv4 loopback is also exempt in the kernel itself, IPv6's
 *     is not);
 *   - IPv6 neighbour discovery (ICMPv6 133-136): a pass in both directions,
 *     else a `private ::/0` would cut the link (libreswan does the same with
 *     its "v6neighbor-hole" policies).
 *
 * Every policy of the footprint carries a "template" priority (see
 * policy_priority); policy_apply manages those and only those, so that the
 * daemon's instances and shunts (host pairs, "instance" priorities) are
 * left alone by a reload. */
#pragma once

#include <glib.h>

#include "xfrm.h"

G_BEGIN_DECLS

#define POLICY_ERROR (policy_error_quark ())
GQuark policy_error_quark (void);

typedef enum
{
  POLICY_ERROR_FAILED, /* reading a group file failed (not a bad line: those are problems) */
} PolicyError;

/* ---- Groups ---- */

typedef enum
{
  POLICY_GROUP_BLOCK,
  POLICY_GROUP_CLEAR,
  POLICY_GROUP_CLEAR_OR_PRIVATE,
  POLICY_GROUP_PRIVATE_OR_CLEAR,
  POLICY_GROUP_PRIVATE,
  POLICY_N_GROUPS,
} PolicyGroup;

/* "block", "clear", ... (the file names); NULL when out of range. */
const char *policy_group_to_string (PolicyGroup group);
gboolean policy_group_from_string (const char *name, PolicyGroup *group);

/* One line of a group file: a CIDR (host bits cleared), and optionally a
 * protocol with ports (host order, 0 = any). */
typedef struct
{
  PolicyGroup group;
  XfrmAddr net;
  guint8 prefix_len;
  guint8 proto;
  guint16 sport, dport;
  guint line; /* in its file, from 1 */
} PolicyEntry;

typedef struct _PolicyGroups PolicyGroups;

PolicyGroups *policy_groups_new (void);
void policy_groups_free (PolicyGroups *groups);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PolicyGroups, policy_groups_free)

/* Parses one group file's contents (@len bytes, not NUL-terminated, any
 * bytes) into @groups.  The format is libreswan's: one entry per line,
 *
 *   CIDR [PROTO SPORT DPORT]
 *
 * CIDR is an IPv4 or IPv6 prefix or a bare address (a host prefix); PROTO a
 * name (tcp, udp, icmp, ipv6-icmp, sctp) or a number 0-255; ports 0-65535, 0
 * meaning any, non-zero only for tcp, udp and sctp.  `#` starts a comment;
 * blank lines are ignored.  Each bad line, and each entry already listed
 * by this or another group, is skipped and reported in @problems (strings
 * "FILE:LINE: what", FILE being @filename) and the rest is used.  Returns
 * the number of entries added. */
guint policy_groups_parse (PolicyGroups *groups, PolicyGroup group, const char *filename,
                           const char *data, gsize len, GPtrArray *problems);

/* Reads @dir/policies/{block,clear,...}; a missing file is an empty group.
 * Problems as above (with the files' paths); NULL with @error only when a
 * file exists but cannot be read. */
PolicyGroups *policy_groups_load (const char *dir, GPtrArray *problems, GError **error);

/* @entry as a group file line that parses back to it: "192.0.2.0/24",
 * "2001:db8::1/128 tcp 0 443". */
char *policy_entry_format (const PolicyEntry *entry);

guint policy_groups_get_n_entries (const PolicyGroups *groups);
const PolicyEntry *policy_groups_get_entry (const PolicyGroups *groups, guint i);

/* The entry that decides for traffic to (or from) @remote, with the flow's
 * @proto and ports (0 when unknown): the longest prefix containing @remote;
 * at the same prefix, an entry naming a protocol and ports that match beats
 * one without.  An entry naming a protocol or ports only matches flows of
 * them: a lookup with @proto 0 finds only entries for every protocol.
 * NULL when no entry covers @remote. */
const PolicyEntry *policy_groups_lookup (const PolicyGroups *groups, const XfrmAddr *remote,
                                         guint8 proto, guint16 sport, guint16 dport);

/* ---- Priorities ---- */

typedef enum
{
  POLICY_CLASS_BYPASS,  /* loopback, neighbour discovery: never negotiated */
  POLICY_CLASS_STATIC,  /* a connection from the configuration */
  POLICY_CLASS_OE_AUTH, /* OE with an authenticated peer (keys or certificates) */
  POLICY_CLASS_OE_ANON, /* OE with NULL authentication, and the groups' lines */
} PolicyClass;

typedef enum
{
  POLICY_LEVEL_INSTANCE, /* a host pair: an instance, or its shunt */
  POLICY_LEVEL_TEMPLATE, /* what it was instantiated from: a group line, a conn */
} PolicyLevel;

#define POLICY_PRIORITY_BASE 0x1000u
#define POLICY_PRIORITY_CLASS_SPAN 0x400u

/* The XFRM priority (lower wins) of a policy of @klass whose remote side
 * is a prefix of @prefix_len bits in a family of @host_bits (32 or 128),
 * with (@has_proto) or without a protocol in its selector.  The order, most
 * significant first: the class; the remote prefix (longer wins, counted
 * from the host prefix so that IPv4 /32 and IPv6 /128 rank alike); a
 * protocol/port selector beats none; an instance beats a template. */
guint32 policy_priority (PolicyClass klass, guint prefix_len, guint host_bits, gboolean has_proto,
                         PolicyLevel level);
/* The inverse, for policies listed from the kernel: FALSE when @priority is
 * not one that policy_priority makes. */
gboolean policy_priority_decode (guint32 priority, PolicyClass *klass, PolicyLevel *level);

/* ---- The desired footprint ---- */

/* reqids of the groups' trap templates (stable across runs and reloads, so
 * that an ACQUIRE names its group); instances take theirs from
 * POLICY_REQID_INSTANCE_MIN up. */
#define POLICY_REQID_GROUP(g) (XFRM_REQID_MIN + 0x10u + (guint32) (g))
#define POLICY_REQID_INSTANCE_MIN (XFRM_REQID_MIN + 0x100u)

typedef struct _PolicySet PolicySet;

void policy_set_free (PolicySet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PolicySet, policy_set_free)

/* The footprint of @groups (see the top of this file); empty when no group
 * needs a kernel policy, with the bypasses otherwise. */
PolicySet *policy_set_from_groups (const PolicyGroups *groups);
guint policy_set_get_n_policies (const PolicySet *set);
const XfrmPolicy *policy_set_get_policy (const PolicySet *set, guint i);
/* The policy for (@sel, @dir), the kernel's identity of a policy; or NULL. */
const XfrmPolicy *policy_set_lookup (const PolicySet *set, const XfrmSelector *sel, XfrmDir dir);

/* The policy of group line @entry in direction @dir, or NULL. */
const XfrmPolicy *policy_set_lookup_entry (const PolicySet *set, const PolicyEntry *entry,
                                           XfrmDir dir);

typedef struct
{
  guint added, updated, removed, kept;
} PolicyApplyStats;

/* Brings the driver's template-level policies of ours to @desired: adds
 * what is missing, updates what differs (in place, atomically in the
 * kernel), removes what is no longer desired, keeps the rest untouched.
 * Running it twice makes no call the second time but the listing.  On
 * start this adopts what a previous run left (even after SIGKILL).
 *
 * Fail-closed order: additions and updates first, protective ones (drop,
 * trap) before passes; removals last, passes before the rest.  At every
 * moment the kernel holds the new set plus part of the old one, and a
 * removal never uncovers a pass that neither set wanted.  On an error the
 * rest is not done; running it again finishes the job. */
gboolean policy_apply (PolicySet *desired, XfrmDriver *driver, PolicyApplyStats *stats,
                       GError **error);

/* ---- Decisions ---- */

typedef enum
{
  POLICY_SHUNT_HOLD, /* keep the trap: the kernel queues packets (xfrm_larval_drop=0) */
  POLICY_SHUNT_PASS, /* clear text */
  POLICY_SHUNT_DROP,
} PolicyShunt;

const char *policy_shunt_to_string (PolicyShunt shunt);

/* The shunt settings (libreswan's negotiationshunt, failureshunt and
 * shuntlifetime); policy_shunt_config_init gives the defaults: hold while
 * negotiating, pass (private-or-clear) or drop (private) for 900 s after a
 * failure. */
typedef struct
{
  PolicyShunt negotiation;
  guint64 failure_seconds;
} PolicyShuntConfig;

void policy_shunt_config_init (PolicyShuntConfig *config);

typedef struct
{
  gboolean initiate; /* FALSE: no group asks for OE to that flow; ignore it */
  PolicyGroup group;
  PolicyEntry entry; /* the line that matched */
  XfrmAddr local;    /* the instance's host pair (the flow's addresses) */
  XfrmAddr remote;
  gboolean fail_open; /* private-or-clear: a failure falls back to clear */
  PolicyShunt negotiation;
  PolicyShunt failure; /* PASS or DROP */
  guint64 failure_seconds;
} PolicyAcquireDecision;

/* What to do about an outbound ACQUIRE (@event's flow).  Pure.  `private`
 * never gets a pass while negotiating, whatever @config says: its packets
 * must not leave in clear. */
void policy_acquire_decide (const PolicyGroups *groups, const PolicyShuntConfig *config,
                            const XfrmEvent *event, PolicyAcquireDecision *decision);

/* The host-pair policy that installs @shunt for @decision's instance (out,
 * remote host prefix, OE-anon instance priority, hard lifetime @seconds, 0
 * for none).  FALSE for POLICY_SHUNT_HOLD: the group's trap stays. */
gboolean policy_shunt_policy (const PolicyAcquireDecision *decision, PolicyShunt shunt,
                              guint64 seconds, XfrmPolicy *policy);

/* Whether an IKE_SA_INIT from @remote, which no connection knows, may be
 * answered: TRUE for private, private-or-clear and clear-or-private, with
 * the deciding group in @group; FALSE for clear, block, or no entry. */
gboolean policy_responder_decide (const PolicyGroups *groups, const XfrmAddr *remote,
                                  PolicyGroup *group);

G_END_DECLS
