#pragma once

#include <string>
#include <string_view>

#include "vram/formats.h"
#include "vram/inference.h"
#include "vram/model.h"
#include "vram/model_files.h"
#include "vram/status.h"
#include "vram/training.h"

namespace vram {

/// Everything a front end asks for: which model (by id, for echoing), how it is stored, and the
/// workload. The same request drives the CLI, the wasm binding and the golden tests.
struct CalculatorRequest {
  std::string model_id;  ///< Echoed only; the model itself is passed separately.
  std::string mode = "inference";  ///< "inference", "train", "lora" or "qlora".
  std::string weights;   ///< Format id; "" or "native" = the checkpoint as published (for
                         ///< LoRA/QLoRA: the frozen base).
  InferenceRequest inference;
  TrainingRequest training;  ///< Used when mode is train, lora or qlora.
  bool is_training() const { return mode != "inference"; }
};

/// A finished calculation.
struct Calculation {
  CalculatorRequest request;
  ModelDescription model;
  ParameterCounts parameters;
  WeightPlan weights;
  InferenceEstimate estimate;        ///< Inference mode.
  TrainingEstimate training;         ///< Training modes.
};

/// The format a model is stored in when the user says "native" or nothing: its
/// quantization_config if pre-quantized, else its torch_dtype.
Result<WeightFormat> ResolveWeightFormat(const ModelDescription& model, std::string_view id);

/// Runs the pipeline: weight format -> weight plan -> inference estimate.
Result<Calculation> Calculate(const ModelDescription& model, const CalculatorRequest& request);

/// As Calculate, with the weights as a model file stores them (`stored`, from
/// PlanWeightsAsStored: a GGUF's tensor types or a safetensors checkpoint's bytes) unless the
/// request names another format or a training mode; then it is Calculate.
Result<Calculation> CalculateStored(const ModelDescription& model, const WeightPlan& stored,
                                    const CalculatorRequest& request);

/// CalculateStored for a model from model files (`file.stored`), else Calculate.
Result<Calculation> CalculateFileModel(const FileModel& file, const CalculatorRequest& request);

/// Parses a request object ({"model", "weights", "context", ...}); unknown keys are errors.
/// When the object has a "config" (a config.json object) it is returned in `config_json`.
Result<CalculatorRequest> ParseCalculatorRequest(std::string_view json_text, std::string* config_json);

/// The result as the JSON object the CLI prints with --json (stable key order).
std::string CalculationToJson(const Calculation& calculation);

/// {"error": {"code", "message"}} for a failed Status.
std::string ErrorJson(const Status& status);

/// The whole round trip for bindings: request JSON (with "config") -> result JSON, or an
/// {"error": {"code", "message"}} object.
std::string CalculateJson(std::string_view request_json);

/// As CalculateJson for a model built from model files: the request carries no "config".
std::string CalculateJson(std::string_view request_json, const FileModel& model);

}  // namespace vram
