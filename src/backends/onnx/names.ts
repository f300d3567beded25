// Unique names within one ONNX namespace (tensors, or nodes): a taken base gets a numeric suffix.
export class NameTable {
  private readonly taken = new Set<string>();

  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** Claims `name` exactly; false if it is already taken. */
  reserve(name: string): boolean {
    if (this.taken.has(name)) return false;
    this.taken.add(name);
    return true;
  }

  /** Claims `base`, or `base.1`, `base.2`, ... */
  unique(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}.${k}`;
    this.taken.add(name);
    return name;
  }
}
