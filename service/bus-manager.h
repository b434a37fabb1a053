/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"

/* The Manager object and the ObjectManager at /org/certrevoke1. */
int bus_manager_register(Context *c);
