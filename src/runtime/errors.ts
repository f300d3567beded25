// The one error type the runtime throws for anything an app can meet: a bad bundle or input, a missing feature or
// limit, a shader the driver refuses, a lost device.
export class WgslRuntimeError extends Error {
  override name = "WgslRuntimeError";
}
