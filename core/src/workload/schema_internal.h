#pragma once

// The JSON side of the request schema (the public side is vram/schema.h).

#include "../json_fields.h"
#include "vram/schema.h"

namespace vram::internal {

/// Reads every schema field present in a request object into `request`, with the JSON
/// request's checks and messages ("request: field 'context' must be an integer in [1, 16777216],
/// got -3"). Fields the request's mode does not read are still checked.
Status ReadRequestFields(const JsonFields& fields, CalculatorRequest* request);

/// Whether a key of a request object is a schema field.
bool IsRequestFieldKey(std::string_view key);

}  // namespace vram::internal
