//! ONNX to Program (placeholder during bring-up).
