// The adapter limits a bundle is planned for, and WebGPU's defaults, which every adapter offers.
/** The adapter limits a bundle is planned for. */
export interface WgslLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
}

/** WebGPU's default limits: what every adapter offers, so bundles planned for them run anywhere. */
export const DEFAULT_LIMITS: Readonly<WgslLimits> = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};
