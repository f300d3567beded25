// Constant initializers: identical small constants share one initializer; large ones are never compared.
import { bytesOf, type HostTensor } from "../../util/tensor.js";
import type { NameTable } from "./names.js";
import { type TensorProto, tensorProto } from "./proto.js";

const DEDUP_MAX_BYTES = 64 * 1024;

export class ConstPool {
  private readonly byContent = new Map<string, string>();
  private readonly byTensor = new Map<HostTensor, string>();
  readonly initializers: TensorProto[] = [];

  constructor(private readonly names: NameTable) {}

  /** The initializer name holding `t`, adding one on first use. */
  name(t: HostTensor, base: string): string {
    const known = this.byTensor.get(t);
    if (known) return known;
    const key =
      t.data.byteLength <= DEDUP_MAX_BYTES
        ? `${t.dtype}[${t.shape.join(",")}]${Buffer.from(bytesOf(t)).toString("base64")}`
        : undefined;
    let name = key === undefined ? undefined : this.byContent.get(key);
    if (name === undefined) {
      name = this.names.unique(base);
      this.initializers.push(tensorProto(name, t));
      if (key !== undefined) this.byContent.set(key, name);
    }
    this.byTensor.set(t, name);
    return name;
  }
}
