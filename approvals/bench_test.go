package approvals

import "testing"

func BenchmarkMint(b *testing.B) {
	ks, err := NewKeySet(GenerateKey())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := ks.Mint(claims()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ks, err := NewKeySet(GenerateKey())
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := ks.Mint(claims())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ks.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(tok)), "token-bytes")
}
