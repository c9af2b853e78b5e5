"""Writes the weights of a BERT encoder exported to ONNX (as torch.onnx exports a HF BertModel)
as an HF `model.safetensors`, the layout `rats train skills --encoder` reads.

    python3 scripts/encoder-from-onnx.py MODEL.onnx OUT.safetensors

Why: the 12-layer base encoder reaches this machine only as an ONNX file inside a Maven Central
jar (scripts/fetch-encoder). The export keeps most weights under their HF names; the linear
layers' weights become anonymous `onnx::MatMul_N` inputs of MatMul nodes named after the
module (`/encoder/layer.0/attention/self/query/MatMul`), stored as [in, out], the transpose of
torch's [out, in]. The file is written by hand (8-byte header length, JSON header, raw
little-endian f32 in sorted name order) so the output is the same bytes on every run.

Needs the `onnx` package (scripts/encoder-requirements.txt).
"""

import json
import re
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper

# Initialisers an export adds that are not weights.
NOT_WEIGHTS = {"embeddings.position_ids"}


def weights(model: onnx.ModelProto) -> dict:
    initialisers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    named = {
        name: array.astype("<f4")
        for name, array in initialisers.items()
        if not name.startswith("onnx::") and name not in NOT_WEIGHTS
    }
    used = set()
    for node in model.graph.node:
        weight = node.input[1] if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight not in initialisers or not weight.startswith("onnx::"):
            continue
        module = re.fullmatch(r"/(.+)/MatMul", node.name)
        if module is None:
            sys.exit(f"encoder-from-onnx: MatMul node {node.name!r} does not name its module")
        name = module.group(1).replace("/", ".") + ".weight"
        named[name] = np.ascontiguousarray(initialisers[weight].T.astype("<f4"))
        used.add(weight)
    left = sorted(n for n in initialisers if n.startswith("onnx::") and n not in used)
    if left:
        sys.exit(f"encoder-from-onnx: initialisers without a weight name: {', '.join(left[:5])}")
    return named


def write_safetensors(tensors: dict, path: str) -> None:
    header, offset = {}, 0
    for name in sorted(tensors):
        size = tensors[name].nbytes
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for name in sorted(tensors):
            out.write(tensors[name].tobytes())


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, target = sys.argv[1:]
    tensors = weights(onnx.load(source))
    write_safetensors(tensors, target)
    print(f"encoder-from-onnx: {len(tensors)} tensors from {source} into {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
