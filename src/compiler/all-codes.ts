// Every diagnostic code netc can report, by area, for the diagnostics reference and its completeness test.
import { CheckCodes, CliCodes, type CodeInfo, IrCodes, OnnxCodes, ShapeCodes, SyntaxCodes } from "./codes.js";
import { WeightCodes } from "../weights/codes.js";
import { WgslCodes } from "../backends/wgsl/codes.js";
import { PreprocessCodes } from "../preprocess/codes.js";
import { DatasetCodes } from "../dataset/codes.js";

export const CODE_AREAS: readonly { area: string; codes: Readonly<Record<string, CodeInfo>> }[] = [
  { area: "Syntax", codes: SyntaxCodes },
  { area: "Names and static checks", codes: CheckCodes },
  { area: "Preprocessing declarations", codes: PreprocessCodes },
  { area: "Types, shapes and elaboration", codes: ShapeCodes },
  { area: "IR", codes: IrCodes },
  { area: "ONNX backend", codes: OnnxCodes },
  { area: "Weights and checkpoints", codes: WeightCodes },
  { area: "WGSL backend", codes: WgslCodes },
  { area: "Command line and files", codes: CliCodes },
  { area: "Datasets: infer, eval, export", codes: DatasetCodes },
];

export function allCodes(): CodeInfo[] {
  return CODE_AREAS.flatMap((a) => Object.values(a.codes));
}
