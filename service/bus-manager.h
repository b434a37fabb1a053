/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "context.h"
#include "publish.h"

/* The Manager object and the ObjectManager at /org/certrevoke1. */
int bus_manager_register(Context *c);

/* The signals the publisher's events stand for. */
extern const PublishEvents bus_publish_events;
