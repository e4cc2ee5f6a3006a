package llmeval_test

import (
	"fmt"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmeval"
)

func ExampleScore() {
	happy := &cot.CoT{Conclusion: cot.Conclusion{Label: "happiness"}}
	recs := []llmeval.Record{
		{Sample: "a", Label: "happiness", Pred: "happiness", Valid: true, CoT: happy, MeasuredAUs: []int{6, 12}, StatedAUs: []int{6, 12}, LatencyMS: 900, Calls: 2, Usage: llm.Usage{TotalTokens: 700}},
		{Sample: "b", Label: "anger", Pred: "happiness", Valid: true, CoT: happy, MeasuredAUs: []int{4, 7}, StatedAUs: []int{4, 9},
			Issues: []llm.Issue{{Kind: llm.IssueHallucinatedAU, AUs: []int{9}}}, LatencyMS: 1500, Calls: 2, Usage: llm.Usage{TotalTokens: 800}},
		{Sample: "c", Label: "anger", Error: "server answered 503"},
	}
	m, err := llmeval.Score(recs, []string{"anger", "happiness"}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("n=%d accuracy=%.2f accuracy_all=%.2f failed=%d\n", m.N, m.Accuracy, m.AccuracyAll, m.Failed)
	fmt.Printf("au_match=%.2f no_hallucination=%.2f au_precision=%.2f au_recall=%.2f\n",
		m.Faithfulness.AUMatch, m.Faithfulness.NoHallucination, m.Faithfulness.AUPrecision, m.Faithfulness.AURecall)
	fmt.Printf("tokens=%d p50=%.0fms\n", m.Cost.TotalTokens, m.Cost.LatencyP50MS)
	// Output:
	// n=2 accuracy=0.50 accuracy_all=0.33 failed=1
	// au_match=0.50 no_hallucination=0.50 au_precision=0.75 au_recall=0.75
	// tokens=1500 p50=900ms
}
