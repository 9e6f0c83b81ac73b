"""Writes tiny-paper.pdf: a one-page, 1.3 KB PDF 1.4 file with a title, two lines of text
and a rule, written byte by byte (no PDF library), so the thumbnail test renders a real
PDF without any download. Rerun to regenerate: python tests/papers/data/pdf/make_tiny_paper.py
"""

from pathlib import Path

CONTENT = b"""BT /F1 20 Tf 72 720 Td (Attention Is Tiny) Tj ET
BT /F1 11 Tf 72 696 Td (A. Author and B. Author) Tj ET
0.2 0.3 0.8 rg 72 680 468 3 re f
BT /F1 10 Tf 72 650 Td (Abstract. We render the first page of this PDF as a thumbnail.) Tj ET
0.9 0.9 0.9 rg 72 420 220 200 re f 320 420 220 200 re f
"""

OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
    b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    b"<< /Length %d >>\nstream\n" % len(CONTENT) + CONTENT + b"endstream",
]


def build() -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(OBJECTS) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(OBJECTS) + 1,
        xref,
    )
    return bytes(out)


if __name__ == "__main__":
    Path(__file__).with_name("tiny-paper.pdf").write_bytes(build())
