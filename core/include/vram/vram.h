#pragma once

/// Umbrella header of the vramcalc estimation core.

#include "vram/config.h"     // IWYU pragma: export
#include "vram/formats.h"    // IWYU pragma: export
#include "vram/gguf.h"       // IWYU pragma: export
#include "vram/hardware.h"   // IWYU pragma: export
#include "vram/inference.h"  // IWYU pragma: export
#include "vram/model.h"      // IWYU pragma: export
#include "vram/model_files.h"  // IWYU pragma: export
#include "vram/planner.h"    // IWYU pragma: export
#include "vram/presets.h"    // IWYU pragma: export
#include "vram/safetensors.h"  // IWYU pragma: export
#include "vram/schema.h"  // IWYU pragma: export
#include "vram/session.h"  // IWYU pragma: export
#include "vram/status.h"     // IWYU pragma: export
#include "vram/calculator.h"  // IWYU pragma: export
