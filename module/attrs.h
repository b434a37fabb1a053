/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attributes of the module's objects: one function answers "what is
 * attribute T of this object", for C_GetAttributeValue and for matching
 * C_FindObjectsInit templates alike, so the two cannot disagree. */
#pragma once

#include "state.h"

/* The value of attribute type of object (e, kind).  Returns 0, -ENOENT when
 * the object has no such attribute, or -ENOMEM.  The value stays valid as
 * long as the state. */
int object_attribute(Entry *e, int kind, CK_ATTRIBUTE_TYPE type, Span *ret);

/* Whether the object has every attribute of the template with that value. */
bool object_matches(Entry *e, int kind, const CK_ATTRIBUTE *tmpl, CK_ULONG n);

/* The object class a kind of object has. */
CK_OBJECT_CLASS object_class(int kind);
