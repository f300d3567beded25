// The one error type the runtime throws for anything an app can meet: a bad bundle or input, a missing feature or
// limit, a shader the driver refuses, a lost device. `code` is the netc diagnostic code (NET7xxx) it corresponds to.
export class WgslRuntimeError extends Error {
  override name = "WgslRuntimeError";

  constructor(
    message: string,
    readonly code: string = "NET7010",
  ) {
    super(message);
  }
}
