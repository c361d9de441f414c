/* What the files of service/policy/ share and nobody else sees. */
#pragma once

#include "policy.h"

struct _PolicyGroups
{
  GArray *entries; /* PolicyEntry, in the order read */
};

struct _PolicySet
{
  GArray *policies; /* XfrmPolicy, at most one per (selector, direction) */
};

/* Clears the host bits of @addr beyond @prefix_len. */
void policy_prefix_mask (XfrmAddr *addr, guint prefix_len);
/* Whether @a and @b would install the same thing (the kernel reads a trap
 * back as ipsec; the index is the kernel's). */
gboolean policy_equivalent (const XfrmPolicy *a, const XfrmPolicy *b);
