package llm_test

import (
	"context"
	"fmt"

	"github.com/tell-project/tell/cot"
	"github.com/tell-project/tell/llm"
	"github.com/tell-project/tell/llm/llmtest"
)

func ExampleParseCoT() {
	answer := `**Key Observations:**
- AU4 (Brow Lowerer): 3.5, tied to anger.
- AU7 (Lid Tightener): moderately, tied to anger.
**Overall Emotional Interpretation:**
AU4+AU7 together signal anger; nothing suggests fear.
**Conclusion:**
Anger.`
	p, err := llm.ParseCoT(answer, []string{"anger", "fear", "happiness"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range p.CoT.Observations {
		fmt.Printf("AU%d %s %.2f %v\n", o.AU, o.Name, o.Intensity, o.Emotions)
	}
	fmt.Println(p.CoT.Interpretation.Interactions, p.CoT.Conclusion.Label)
	issues := llm.Check(p, []cot.Evidence{{AU: 4, Intensity: 3.5}}, []string{"anger", "fear", "happiness"}, llm.CheckOptions{})
	fmt.Println(issues[0])
	// Output:
	// AU4 Brow Lowerer 3.50 [anger]
	// AU7 Lid Tightener 2.50 [anger]
	// [4+7] anger
	// hallucinated_au: claims AU7, not measured (below 0.50)
}

func ExampleModel_Reason() {
	// A chat-completions server inside the process stands in for vLLM,
	// llama.cpp's server or Ollama.
	srv := llmtest.New(
		llmtest.Reply{Content: `{"label":"happiness"}`},
		llmtest.Reply{Content: "**Key Observations:**\n- AU12 (Lip Corner Puller): 0.8, happiness.\n" +
			"**Overall Emotional Interpretation:**\nA smile: happiness.\n**Conclusion:**\nHappiness."},
	)
	defer srv.Close()
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), Model: "qwen2.5vl:7b"})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := &llm.Model{Client: client}
	ans, err := m.Reason(context.Background(), llm.Request{
		Evidence: []cot.Evidence{{AU: 12, Intensity: 4}},
		Classes:  []string{"happiness", "sadness", "surprise"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ans.Source, ans.CoT.Conclusion.Label, ans.Calls, len(ans.Issues))
	// Output: llm happiness 2 0
}

func ExampleRewriter_Rewrite() {
	// The built-in engine writes the chain of thought; a model rephrases it.
	c, err := cot.Generate([]cot.Evidence{{AU: 6, Intensity: 2.5}, {AU: 12, Intensity: 4}}, "happiness", cot.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// This model drops AU6, so its rewrite is refused and the built-in
	// text kept.
	srv := llmtest.New()
	srv.Handler = func(llm.ChatRequest) llmtest.Reply {
		return llmtest.Reply{Content: "**Key Observations:**\n- AU12 pulls the lip corners.\n**Overall Emotional Interpretation:**\nA smile.\n**Conclusion:**\nHappiness."}
	}
	defer srv.Close()
	client, _ := llm.New(llm.Config{BaseURL: srv.URL(), Model: "m"})
	out, res, err := (&llm.Rewriter{Client: client, MaxTries: 2}).Rewrite(context.Background(), c, []string{"happiness", "sadness"})
	fmt.Println(res.Rewritten, res.Attempts, out.Text == c.Text, err)
	fmt.Println(res.Feedback[0])
	// Output:
	// false 2 true <nil>
	// rewrite attempt 1: dropped AU6
}
