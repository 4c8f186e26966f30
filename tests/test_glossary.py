"""The 토막상식 term base as shipped: big, consistent, in the newsletter's voice, and it finds the
concept a news item is about without firing on ordinary English."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import pytest

from digest.glossary import (
    GlossaryError,
    GlossaryTerm,
    find_term,
    load_glossary,
    matches,
    parse_glossary,
    pick_term,
    term_of_note,
)

TERMS = load_glossary()
RULED = [t for t in TERMS if t.has_rules]
# The term base with its sense rules taken off: which names a text mentions, in any sense.
PLAIN = tuple(replace(t, context=(), not_with=(), except_in=()) for t in TERMS)

# Words that read as plain English in a headline; an alias like these would put a 토막상식 on
# items that never mention the concept ("transfer the funds", "the map", "a video clip").
ORDINARY_WORDS = {
    "model", "models", "learning", "data", "agent", "transfer", "scale", "search", "loss",
    "policy", "prompt", "prompts", "training", "network", "networks", "serving", "map", "clip",
    "sam", "zero", "recall", "precision", "alignment", "temperature", "reinforce", "token",
    "tokens", "grounding", "kg", "glove", "nas", "optimizer", "parameters",
}  # fmt: skip


def names(term: GlossaryTerm) -> tuple[str, ...]:
    return (term.term, *term.aliases)


def hangul_share(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    return sum("가" <= c <= "힣" for c in chars) / len(chars)


def ends_in_eum_style(text: str) -> bool:
    """~임. / ~함. / ~씀. / ~줄어듦.: the last syllable has the final consonant ㅁ (or ㄻ)."""
    last = text.rstrip(".")[-1:]
    return bool(last) and "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 in (16, 10)


# the file as a whole ---------------------------------------------------------------------------
def test_the_glossary_covers_the_field() -> None:
    assert len(TERMS) >= 150


def test_terms_are_unique() -> None:
    folded = [t.term.casefold() for t in TERMS]
    assert sorted(n for n in folded if folded.count(n) > 1) == []


def test_no_name_belongs_to_two_entries() -> None:
    owners: defaultdict[str, set[str]] = defaultdict(set)
    for term in TERMS:
        for name in {*names(term), term.ko}:
            owners[name.casefold()].add(term.term)
    assert {name: sorted(o) for name, o in owners.items() if len(o) > 1} == {}


def test_every_entry_is_complete_and_tidy() -> None:
    for term in TERMS:
        assert term.term and term.ko and term.note, term
        folded = [a.casefold() for a in term.aliases]
        assert len(set(folded)) == len(folded), f"{term.term}: repeated alias"
        assert term.term.casefold() not in folded, f"{term.term}: alias repeats the term"
        for name in (*names(term), term.ko):
            assert name == name.strip() and name, f"{term.term}: {name!r}"


def test_aliases_are_never_ordinary_english_words() -> None:
    plain = [(t.term, a) for t in TERMS for a in t.aliases if a.casefold() in ORDINARY_WORDS]
    assert plain == []


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.term)
def test_note_is_a_short_korean_line_in_the_newsletter_voice(term: GlossaryTerm) -> None:
    assert 20 <= len(term.note) <= 220
    assert hangul_share(term.note) >= 0.4
    assert term.note.startswith(term.ko)  # the first mention is the Korean name
    assert ends_in_eum_style(term.note), term.note[-15:]


def test_the_voice_check_tells_styles_apart() -> None:
    assert ends_in_eum_style("대표적임.") and ends_in_eum_style("다양성은 조금 줄어듦.")
    assert not ends_in_eum_style("대표적입니다.") and not ends_in_eum_style("It is typical.")
    assert hangul_share("LoRA is low-rank") == 0.0 and hangul_share("양자화 int") == 0.5


# detection --------------------------------------------------------------------------------------
def test_every_name_finds_its_own_entry() -> None:
    """A name that sits inside another entry's name ("reinforcement learning" in "reinforcement
    learning from human feedback") must not steal the longer one's mentions. (Sense rules aside:
    a bare name says nothing of its sense; the rules are tested below.)"""
    wrong = []
    for term in TERMS:
        for name in (*names(term), term.ko):
            found = matches("", f"This week: {name} in practice.", PLAIN)
            if not found or found[0].term.term != term.term:
                wrong.append((name, term.term, found[0].term.term if found else None))
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LoRA freezes the pretrained weights and trains two small matrices.",
            "Low-rank adaptation",
        ),
        ("We fine-tune with RLHF", "Fine-tuning"),
        (
            "Reinforcement learning from human feedback (RLHF) aligns chat models with people.",
            "Reinforcement learning from human feedback",
        ),
        (
            "Stochastic gradient descent with momentum stays a strong baseline.",
            "Stochastic gradient descent",
        ),
        ("Our Vision Transformer beats a ResNet-50 baseline on ImageNet.", "Vision Transformer"),
        (
            "Speculative decoding with a small draft model makes generation 3x faster.",
            "Speculative decoding",
        ),
        ("The KV cache grows linearly with the context length.", "KV cache"),
        ("Mamba, a selective state space model, reads million-token inputs.", "Mamba"),
        (
            "Benchmark contamination inflates the scores of open-weight models.",
            "Data contamination",
        ),
        ("3D Gaussian splatting renders the scene in real time.", "Gaussian splatting"),
        ("Post-training quantization to INT8 keeps accuracy on edge hardware.", "Quantization"),
        (
            "This paper presents a knowledge distillation (KD) framework for YOLOv8.",
            "Knowledge distillation",
        ),
        ("A new jailbreak bypasses the safety filters of GPT-4.", "Jailbreak"),
        ("We scale a diffusion transformer to 8B parameters for video.", "Diffusion Transformer"),
        (
            "Direct preference optimization needs no separate reward model.",
            "Direct preference optimization",
        ),
        ("역전파는 오차를 거꾸로 흘려보냄.", "Backpropagation"),
    ],
)
def test_find_term_in_news_sentences(text: str, expected: str) -> None:
    found = find_term(text)
    assert found is not None and found.term == expected


@pytest.mark.parametrize(
    "text",
    [
        "The weather in Seoul was pleasant and the market was busy.",
        "Sam will clip the coupon, check the map, and recall where he parked.",
        "The committee agreed to transfer the funds and scale back the search for a venue.",
        "Ticket prices rose by zero percent, and the team serving lunch wore red.",
        "He will reinforce the policy and report the loss to the agency's data office.",
        "서울의 날씨는 맑았고 시장은 붐볐음.",
    ],
)
def test_ordinary_prose_gets_no_note(text: str) -> None:
    assert find_term(text) is None


def test_exclude_skips_a_term_already_explained() -> None:
    text = "We fine-tune with RLHF"
    rlhf = "Reinforcement learning from human feedback"
    first = find_term(text)
    assert first is not None and first.term == "Fine-tuning"
    second = find_term(text, exclude={"Fine-tuning"})
    assert second is not None and second.term == rlhf
    assert find_term(text, exclude={"Fine-tuning", rlhf}) is None


def test_an_edited_note_still_belongs_to_its_term() -> None:
    """An editor rewording the end of a note keeps its opening Korean name; the longest such name
    must win (신경망 구조 탐색 is not 신경망)."""
    wrong = []
    for term in TERMS:
        found = term_of_note(term.note[:-3] + " 편집함.")
        if found is None or found.term != term.term:
            wrong.append((term.term, found.term if found else None))
    assert wrong == []


# sense rules ------------------------------------------------------------------------------------
def found(title: str, body: str = "", terms: tuple[GlossaryTerm, ...] | None = None) -> set[str]:
    return {m.term.term for m in matches(title, body, terms)}


# For each kind of ambiguity: an item that uses a name in another sense, which must not get the
# note (though the name is there: without the rules it would), and an ML item that must.
SENSES = [
    (
        "Transformer",
        (
            "Transformer fault diagnosis in substations with dissolved gas analysis",
            "We diagnose faults of oil-immersed power transformers in 220 kV substations. DGA "
            "ratios of seven gases feed a deep neural network trained on 1,400 maintenance "
            "records, which reaches 96% accuracy on winding and core faults.",
        ),
        (
            "Looped transformers learn to think longer",
            "We feed a transformer's hidden states back through its layers, so the model spends "
            "more compute on harder tokens without adding parameters.",
        ),
    ),
    (
        "Diffusion model",
        (
            "Heat diffusion in layered composites",
            "We solve the diffusion equation for heat conduction through a three-layer laminate "
            "and fit the thermal diffusivity of each layer to measured temperature profiles.",
        ),
        (
            "Faster sampling for image diffusion",
            "Diffusion models generate images by removing noise step by step; our sampler needs "
            "eight steps instead of fifty with no loss in FID.",
        ),
    ),
    (
        "Attention",
        (
            "Students' attention in online lectures",
            "Eye tracking of 120 secondary-school students shows that attention drops after ten "
            "minutes of video lectures; a model of mind wandering predicts the decline.",
        ),
        (
            "Linear attention at long context",
            "We replace softmax attention with a kernel feature map, so each token attends to "
            "the whole sequence in linear time.",
        ),
    ),
    (
        "Agent",
        (
            "A milder reducing agent for aldehydes",
            "Sodium triacetoxyborohydride serves as the reducing agent; the agent tolerates esters "
            "and nitro groups and gives the alcohols in 90% yield.",
        ),
        (
            "Web agents that book flights",
            "We train an LLM agent to browse airline sites, fill forms and recover from errors; "
            "it completes 61% of tasks on a new benchmark.",
        ),
    ),
    (
        "Kernel fusion",
        (
            "Linux 6.10 gives io_uring a fused kernel path",
            "The Linux kernel now serves reads and writes on one fused kernel path, which cuts "
            "system call overhead for storage servers.",
        ),
        (
            "Kernel fusion for attention on GPUs",
            "Fusing the softmax and matmul kernels keeps intermediate tiles in on-chip memory; "
            "kernel fusion alone speeds up inference by 1.7x.",
        ),
    ),
    (
        "Reasoning",
        (
            "통계적 추론 입문",
            "표본 평균으로 모집단 평균을 추론하고, 신뢰구간과 가설 검정으로 그 불확실성을 따짐.",
        ),
        (
            "추론 모델의 풀이 길이",
            "추론 모델은 답을 내기 전에 중간 풀이를 길게 적는데, 이 연구는 그 길이를 절반으로 "
            "줄여도 정답률이 유지됨을 보임.",
        ),
    ),
    (
        "Pruning",
        (
            "Winter pruning of apple trees",
            "Pruning opens the canopy to light; orchards pruned in February gave 12% more fruit "
            "than unpruned rows.",
        ),
        (
            "Structured pruning for LLMs",
            "We remove 40% of attention heads and MLP channels from a 7B model and recover "
            "accuracy with a short fine-tune.",
        ),
    ),
    (
        "Tokenizer",
        (
            "Asset tokenization moves onto Ethereum",
            "Banks are piloting tokenization of real-world assets: bonds and funds become tokens "
            "on a blockchain that settle in minutes.",
        ),
        (
            "A byte-level tokenizer for 100 languages",
            "Our tokenizer splits text into bytes and merges frequent pairs, so rare scripts no "
            "longer cost five times as many tokens.",
        ),
    ),
    (
        "On-device AI",
        (
            "Real-time scheduling for embedded systems",
            "We schedule periodic tasks on edge devices with 64 KB of RAM and prove that every "
            "deadline is met under a 70% processor load.",
        ),
        (
            "A 3B chat model on a phone",
            "With 4-bit quantization the model runs on-device at 20 tokens per second on the "
            "phone's NPU, with no server round trip.",
        ),
    ),
    (
        "Embedding",
        (
            "Sobolev embeddings on manifolds with boundary",
            "We prove sharp constants for the Sobolev embedding of W^{1,p} into L^q on compact "
            "manifolds.",
        ),
        (
            "Text embeddings for semantic search",
            "We train an embedding model whose vectors place paraphrases close together, so "
            "retrieval finds answers phrased in other words.",
        ),
    ),
    (
        "Large language model",
        (
            "LLM in International Law: applications open",
            "The one-year Master of Laws programme admits 40 students; LLM graduates work at "
            "courts and firms.",
        ),
        (
            "An LLM that cites its sources",
            "The LLM quotes the retrieved passages it relies on, and readers can check each claim.",
        ),
    ),
    (
        "GPU",
        (
            "A compact linear accelerator for radiotherapy",
            "The new linac accelerator delivers 6 MV beams in a room half the usual size.",
        ),
        (
            "Cheaper accelerators for inference",
            "A startup's inference accelerator serves Llama 70B at half the price of a GPU.",
        ),
    ),
    (
        "Hallucination",
        (
            "Auditory hallucinations in early psychosis",
            "Patients with schizophrenia reported voices; hallucination severity fell after "
            "twelve weeks of treatment.",
        ),
        (
            "Detecting hallucination in summaries",
            "We flag sentences of a generated summary that the source does not support and cut "
            "hallucination by half.",
        ),
    ),
    (
        "Knowledge distillation",
        (
            "Fractional distillation of crude oil",
            "Crude oil is heated and its vapours separate in the distillation column by boiling "
            "point.",
        ),
        (
            "Distillation of a 70B model into 8B",
            "A small student model learns from the teacher's logits and keeps 95% of its score.",
        ),
    ),
    (
        "Quantization",
        (
            "Flux quantization in superconducting rings",
            "The magnetic flux through a superconducting ring is quantized in units of h/2e; we "
            "measure the quantization at 4 K.",
        ),
        (
            "Quantization without calibration data",
            "Our method quantizes LLM weights to 4 bits and keeps perplexity within 0.1 of the "
            "FP16 model.",
        ),
    ),
    (
        "Entropy",
        (
            "Entropy production far from equilibrium",
            "We measure entropy production in a driven colloidal system and test the second law "
            "of thermodynamics at small scales.",
        ),
        (
            "Entropy of the next-token distribution",
            "Tokens where the model's predictive entropy is high are where reasoning chains go "
            "wrong.",
        ),
    ),
    (
        "Dropout",
        (
            "Predicting student dropout in MOOCs",
            "We predict which enrolled learners drop out of online courses; dropout is highest "
            "in the second week.",
        ),
        (
            "Dropout as a Bayesian approximation",
            "Keeping dropout on at test time gives the network an estimate of its own uncertainty.",
        ),
    ),
    (
        "Active learning",
        (
            "Active learning in undergraduate physics",
            "Students in active learning classrooms scored 6% higher on the final exam than "
            "students in traditional lectures.",
        ),
        (
            "Active learning for medical image labels",
            "The model asks experts to annotate only the unlabeled scans it is least sure of.",
        ),
    ),
    (
        "Online learning",
        (
            "Online learning during the pandemic",
            "A survey of 3,000 students on distance learning, e-learning platforms and remote "
            "exams.",
        ),
        (
            "Online learning with adversarial losses",
            "We give an algorithm whose regret grows as the square root of the number of rounds.",
        ),
    ),
    (
        "Convolutional neural network",
        (
            "Storm batters the coast",
            "CNN reported that the storm cut power to 200,000 homes, according to officials "
            "who told CNN the outages could last days.",
        ),
        (
            "A CNN reads chest X-rays",
            "The CNN classifies chest X-ray images into five findings with radiologist-level "
            "accuracy.",
        ),
    ),
    (
        "Benchmark",
        (
            "Bank of Korea holds its benchmark rate",
            "The benchmark interest rate stays at 3.5%, and bond yields fell 5 basis points.",
        ),
        (
            "A benchmark for coding agents",
            "Our benchmark has 500 real GitHub issues; the best model resolves 38% of them.",
        ),
    ),
    (
        "Regularization",
        (
            "Spain's regularization of undocumented migrants",
            "The amnesty gives residence permits to 500,000 undocumented workers.",
        ),
        (
            "Regularization against overfitting",
            "Weight decay and dropout keep the model from memorizing its training data.",
        ),
    ),
    (
        "Generative adversarial network",
        (
            "GaN transistors for fast chargers",
            "Wide-bandgap GaN HEMT transistors switch faster than silicon MOSFETs.",
        ),
        (
            "A GAN for face editing",
            "The generator edits age and expression while the discriminator keeps faces realistic.",
        ),
    ),
    (
        "Low-rank adaptation",
        (
            "LoRa links for farm sensors",
            "LoRa radio reaches 10 km; we tune the spreading factor of each LoRaWAN node.",
        ),
        (
            "LoRA for diffusion styles",
            "Training a rank-8 LoRA adapter on 20 images teaches the model a new style.",
        ),
    ),
    (
        "Ablation study",
        (
            "Catheter ablation for atrial fibrillation",
            "One year after radiofrequency ablation, 70% of patients remained in sinus rhythm.",
        ),
        (
            "What makes the retriever work",
            "An ablation study removes each component in turn; the reranker matters most.",
        ),
    ),
    (
        "Image segmentation",
        (
            "Customer segmentation for retail marketing",
            "Market segmentation splits shoppers into six groups by spending and visit frequency.",
        ),
        (
            "Segmenting tumours in MRI",
            "Our model produces pixel masks for tumour segmentation in brain MRI.",
        ),
    ),
    (
        "Jailbreak",
        (
            "교도소 탈옥 사건",
            "수감자 두 명이 교도소 담을 넘어 탈옥했다가 이틀 만에 붙잡힘.",
        ),
        (
            "A one-line jailbreak",
            "A new jailbreak prompt makes aligned models produce harmful content.",
        ),
    ),
    (
        "Robotics",
        (
            "AI crawlers and robots.txt",
            "Publishers say AI companies' web crawlers ignore robots.txt.",
        ),
        (
            "Robots learn to fold laundry",
            "A robot policy trained on 1,000 demonstrations folds shirts it has never seen.",
        ),
    ),
    (
        "Perplexity",
        (
            "Perplexity AI raises $500M",
            "Perplexity's answer engine now handles 100 million queries a week.",
        ),
        (
            "Perplexity is not enough",
            "Lower perplexity on WikiText does not predict better downstream accuracy.",
        ),
    ),
    (
        "Area under the ROC curve",
        (
            "Pharmacokinetics of a new antiviral",
            "AUC and Cmax rose in proportion to dose; plasma concentration peaked at 2 h.",
        ),
        (
            "Early sepsis warning",
            "The classifier predicts sepsis six hours ahead with an AUC of 0.91.",
        ),
    ),
    (
        "Software testing and verification",
        (
            "Age verification for adult sites",
            "The new law requires age verification before users can view adult content.",
        ),
        (
            "Finding bugs with fuzzing",
            "Software testing with a coverage-guided fuzzer found 30 bugs in the parser.",
        ),
    ),
]


@pytest.mark.parametrize(("term", "other", "ml"), SENSES, ids=[s[0] for s in SENSES])
def test_a_note_follows_the_sense_its_item_uses(
    term: str, other: tuple[str, str], ml: tuple[str, str]
) -> None:
    assert term in found(*other, PLAIN)  # the name is there: the rules keep the note off
    assert term not in found(*other)
    assert term in found(*ml)


# More names in another sense, one item each (the ML side is in ML_SENTENCES below).
OTHER_SENSES = [
    (
        "Pre-training",
        "현장체험학습 사전학습",
        "학생들은 박물관에 가기 전에 교실에서 사전학습을 함.",
    ),
    (
        "Fine-tuning",
        "Is the universe fine-tuned?",
        "The fine-tuning problem of the cosmological constant asks why it is so small.",
    ),
    ("Reinforcement learning", "RL circuits", "The RL circuit's time constant is L/R."),
    (
        "Transformer",
        "Transformers: Rise of the Beasts",
        "Hasbro's Optimus Prime tops the box office.",
    ),
    (
        "Diffusion model",
        "Drift-diffusion models of choice",
        "A drift diffusion model fits reaction times of 40 participants.",
    ),
    (
        "Model scaling",
        "Vaccine makers scale up",
        "Factories scale up production of the new vaccine.",
    ),
    ("Data contamination", "Bank breach", "A data leakage exposed 2 million customer records."),
    ("Benchmark", "벤치마크 금리 인상", "한국은행이 벤치마크 금리를 0.25%p 올림."),
    ("Mixture of experts", "Singapore schools", "The Ministry of Education (MOE) shortens exams."),
    (
        "Retrieval-augmented generation",
        "Project report",
        "The RAG status of the build turned amber.",
    ),
    ("Distributed training", "시험 공부 요령", "벼락치기보다 분산 학습이 오래 기억에 남음."),
    ("Inference", "Type inference for Python", "Type inference recovers the types of variables."),
    ("Inference", "Small samples", "Statistical inference with 12 observations needs care."),
    ("Multimodal", "Freight corridors", "Multimodal freight transport links rail and sea."),
    (
        "Robotics",
        "Robotic surgery outcomes",
        "Robot-assisted prostatectomy shortened hospital stays.",
    ),
    ("Neural network", "The hippocampus", "Biological neural networks replay the day's routes."),
    (
        "Deep learning",
        "How students study",
        "Deep learning and surface learning approaches differ.",
    ),
    (
        "State space model",
        "Forecasting GDP",
        "A Kalman filter estimates the state space model (SSM).",
    ),
    ("Mamba", "Faster conda", "micromamba installs Mamba environments in seconds."),
    ("Activation function", "Sigmoid volvulus", "The sigmoid colon twists in elderly patients."),
    ("Logits", "Travel mode choice", "A mixed logit model estimates commuters' choices."),
    ("BERT", "Comedy tour", "Bert Kreischer adds ten dates."),
    ("GPT", "Disk setup", "Convert the MBR disk to a GPT partition table."),
    ("Foundation model", "Beams on soil", "A Winkler foundation model represents the soil."),
    (
        "Small language model",
        "Holographic displays",
        "A spatial light modulator (SLM) shapes light.",
    ),
    ("Positional encoding", "Climbing gear", "Check the rope before every climb."),
    ("Multi-head attention", "India's MHA", "The Ministry of Home Affairs (MHA) issued rules."),
    ("Vision-language-action model", "Radio galaxy", "VLA observations at 5 GHz show a jet."),
    ("Backpropagation", "Dendrites", "Backpropagation of action potentials into dendrites."),
    (
        "Stochastic gradient descent",
        "Currency",
        "The deal is worth SGD 2 billion in Singapore dollars.",
    ),
    ("Learning rate", "Solar costs", "Solar PV has a learning rate of 20% per doubling."),
    ("Batch size", "Factory planning", "The economic batch size balances setup and inventory."),
    ("Loss function", "Central banks", "The central bank's loss function weighs inflation."),
    ("Early stopping", "Trial halted", "Early stopping for futility at the interim analysis."),
    ("Curriculum learning", "Nursing school", "Curriculum learning outcomes of nursing students."),
    ("Unsupervised learning", "Pool safety", "Children left unsupervised near water drown."),
    ("Meta-learning", "Study skills", "Learning to learn helps pupils plan their revision."),
    (
        "Continual learning",
        "Adult education",
        "UNESCO promotes lifelong learning for adult learners.",
    ),
    ("Post-training", "Sports science", "Post-training muscle soreness peaks after two days."),
    ("Direct preference optimization", "Privacy law", "Appoint a DPO under the GDPR."),
    ("Proximal policy optimization", "Health plans", "A PPO health plan costs more than an HMO."),
    ("Multi-armed bandit", "Highway robbery", "Armed bandits attacked a convoy; police arrived."),
    (
        "Exploration-exploitation trade-off",
        "Innovation in firms",
        "Firms balance the exploration-exploitation trade-off through ambidexterity.",
    ),
    ("Generalization", "A new inequality", "We prove a generalization of the Cauchy inequality."),
    ("Local minimum", "Water clusters", "Local minima on the potential energy surface of water."),
    ("Expressive power", "The actor", "Her expressive power carries the second act."),
    ("Entropy", "Black holes", "The entropy of a black hole is proportional to its area."),
    ("Optimal transport", "물류 최적화", "화물의 최적 수송 경로를 찾음."),
    ("Support vector machine", "Inverters", "Space vector modulation (SVM) drives the motor."),
    ("Decision tree", "Screening", "A decision tree compares the cost-effectiveness in QALYs."),
    ("Clustering", "Galaxy surveys", "Galaxy clustering at high redshift traces dark matter."),
    ("Dimensionality reduction", "After surgery", "Patient-controlled analgesia (PCA) eases pain."),
    ("Cross-validation", "팩트체크", "기자들은 여러 출처로 교차 검증함."),
    ("Speculative decoding", "Arbitration", "The commission's draft model law is out."),
    ("Beam search", "mmWave", "Beam search aligns the antenna of a 5G base station."),
    ("Masked language model", "Pyramid schemes", "MLM recruits sell to their friends."),
    ("In-context learning", "Campus news", "ICL (Imperial College London) opens a campus."),
    ("Tool use", "Compilers", "Function calling conventions differ between compilers."),
    ("Model Context Protocol", "Hand surgery", "Arthritis of the MCP joint of the thumb."),
    (
        "Multi-agent system",
        "Consensus",
        "Consensus control of multi-agent systems with a Lyapunov function.",
    ),
    ("Code generation", "Compilers", "Code generation in LLVM: instruction selection."),
    ("Emergent abilities", "Starlings", "Emergent behavior in bird flocks."),
    ("Model collapse", "Buildings", "The model collapses in a progressive collapse test."),
    ("Sycophancy", "Cabinet meetings", "Sycophancy toward the president worried aides."),
    ("AI alignment", "Workplace", "Value alignment between employees and the firm."),
    ("Red teaming", "Bank security", "A red team ran penetration tests on the bank."),
    ("Watermarking", "Old paper", "Watermarks date 17th-century letters."),
    ("Data poisoning", "Supply chain", "A backdoored npm package stole credentials."),
    ("Machine unlearning", "At work", "Unlearning bad habits takes employees months."),
    ("Interpretability", "판결문", "이 조항에는 여러 해석 가능성이 있음."),
    ("Mechanistic interpretability", "EE 101", "Circuit analysis with Kirchhoff's laws."),
    ("Sparse autoencoder", "Trucks", "SAE Level 4 trucks drive without a driver."),
    ("Model calibration", "Hydrology", "Model calibration of SWAT for a watershed."),
    ("BLEU", "Dinner", "A cordon bleu recipe."),
    ("Leaderboard", "Golf", "The Masters leaderboard after two birdies."),
    ("Consistency model", "Databases", "Eventual consistency models for replicas."),
    ("Energy-based model", "Medicine", "EBM (evidence-based medicine) guidelines."),
    ("TPU", "3D printing", "TPU filament prints flexible parts."),
    ("FLOPs", "Box office", "The sequel was a flop."),
    ("Sparsity", "Resale", "한정판의 희소성 가치가 리셀 가격을 올림."),
    ("Gradient checkpointing", "Compilers", "Rematerialization lowers register pressure."),
    ("Prefill", "Syringes", "프리필드 시린지 생산을 늘림."),
    ("Continuous batching", "Games", "Dynamic batching in Unity reduces draw calls."),
    ("Label noise", "Pharmacy", "Label errors on medicine packs."),
    ("Class imbalance", "Cities", "City sizes follow a long-tailed distribution."),
    ("Data-centric AI", "Security", "Data-centric security for cloud storage."),
    ("Data deduplication", "Backups", "Deduplication in backup storage systems."),
    ("Distribution shift", "분배", "경기 침체 뒤 소득 분포 변화가 뚜렷함."),
    ("Object detection", "Investing", "YOLO trades on WallStreetBets."),
    ("Neural radiance field", "Toys", "Hasbro's Nerf blasters."),
    ("Optical character recognition", "Schools", "OCR (Office for Civil Rights) opens a probe."),
    ("Depth estimation", "Seismology", "Depth estimation of earthquake hypocenters."),
    ("Super-resolution", "Microscopy", "STED super-resolution resolves 30 nm."),
    ("Natural language processing", "Coaching", "NLP (neuro-linguistic programming) seminars."),
    ("Named entity recognition", "Genes", "NER repairs DNA damage from UV light."),
    ("Automatic speech recognition", "Concrete", "ASR (alkali-silica reaction) cracks concrete."),
    ("Text-to-speech", "Cardiology", "TTS (Takotsubo syndrome) after emotional stress."),
    ("Sim-to-real", "Politics", "The reality gap between promises and results."),
    ("Embodied AI", "Philosophy", "Embodied intelligence in phenomenology."),
    ("Motion planning", "Spacecraft", "Trajectory optimization for a low-thrust spacecraft."),
    ("Teleoperation", "장난감", "원격 조종 자동차 장난감."),
    ("Message passing", "HPC", "Message passing with MPI on supercomputers."),
    ("Collaborative filtering", "Linear algebra", "Matrix factorization solves linear systems."),
    ("Software testing and verification", "Banking", "Identity verification and KYC checks."),
    ("Hallucination", "환각제 단속", "마약류 환각제 유통이 늘어남."),
    ("Jailbreak", "Phones", "The iOS jailbreak tool Cydia."),
    ("Guardrails", "Budgets", "Fiscal guardrails limit new debt."),
    ("Elo rating", "Chess", "FIDE Elo rating of the grandmaster."),
    ("Large language model", "Law school", "Master of Laws (LLM) admissions open."),
    ("Tokenizer", "Payments", "Payment card tokenization replaces card numbers."),
    ("Agent", "Sports", "The free agent signs with Boston."),
    ("Agent", "Mean-field games", "Each agent solves a constrained Markov decision process."),
    ("Attention", "Classrooms", "ADHD and attention span in classroom learning."),
    ("Reasoning", "법원 판결", "재판부의 추론은 통계 추론 자료에 기댐."),
    ("Regularization", "고용", "비정규직의 정규직 정규화가 마무리됨."),
    ("Quantization", "Quantum Hall effect", "The quantized Hall resistance is h/e^2."),
]


@pytest.mark.parametrize(
    ("term", "title", "body"), OTHER_SENSES, ids=[f"{t}:{title}" for t, title, _ in OTHER_SENSES]
)
def test_a_name_in_another_sense_gets_no_note(term: str, title: str, body: str) -> None:
    assert term in found(title, body, PLAIN)
    assert term not in found(title, body)


# Items whose senses no entry explains must not pick up a note from a look-alike name.
@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "A use-after-free in the Linux kernel",
            "A race in the kernel's io_uring code lets a local user escalate privileges; the fix "
            "adds a lock around the request queue.",
        ),
        (
            "Fiber reinforcement of concrete beams",
            "Steel fiber reinforcement at 1% volume reduced crack widths by 40% under cyclic "
            "loading.",
        ),
        (
            "Flaky regression tests in continuous integration",
            "We rerun 10,000 regression tests and find that 4% fail intermittently because of "
            "timing and test order.",
        ),
        (
            "Token-based authentication for REST APIs",
            "Clients exchange a password for a short-lived access token and a refresh token.",
        ),
        (
            "과수원의 겨울 가지치기",
            "사과나무는 겨울에 전정해 햇빛이 잘 들게 하면 과일나무 수확량이 늘어남.",
        ),
        ("가드레일 교체 공사", "고속도로 가드레일을 새것으로 바꾸는 공사가 다음 주에 시작됨."),
        ("성급한 일반화", "한두 사례로 전체를 판단하는 성급한 일반화의 오류를 조심해야 함."),
        ("현장체험학습 안내", "학생들은 현장체험학습 전에 교실에서 사전학습을 함."),
        ("한정판 운동화", "한정판 운동화는 희소성 가치 덕분에 리셀 가격이 오름."),
        ("Highway guardrails save lives", "New roadside guardrails cut crash deaths by a third."),
        ("Black mamba bites", "The snake's venom acts within minutes."),
        ("Khmer Rouge tribunal closes", "The court ends its work after 16 years."),
        ("FIDE ratings", "The grandmaster's Elo rating passed 2800 after the tournament."),
        ("The sequel was a flop", "The film's opening weekend was the worst of the year."),
        ("He bought a lottery ticket", "The jackpot was 2 million dollars."),
        (
            "Bezos on career choices",
            "His regret minimization framework asks what you will regret at 80.",
        ),
        (
            "Exercise after heart surgery",
            "Supervised training programs for cardiac rehabilitation patients improved fitness.",
        ),
        ("Tool use in New Caledonian crows", "The crows bend twigs into hooks to reach food."),
        ("Inmates jailbreak from county prison", "Two inmates escaped through a vent."),
    ],
)
def test_other_senses_get_no_note(title: str, body: str) -> None:
    assert pick_term(title, body) is None


def test_a_mention_in_an_idiom_does_not_count_but_another_may() -> None:
    """`except_in` works per mention: "received significant attention" is no attention layer,
    and an inference cost is no 추론 (reasoning), while the same item may still use the term."""
    idiom = "LLM agents have received significant attention. We study their failures."
    assert "Attention" not in found("", idiom)
    assert "Attention" in found("", idiom + " Probing their attention heads shows why.")
    cost = "이 기법은 LLM의 추론 비용을 절반으로 줄임."
    assert "Reasoning" not in found("", cost)
    assert "Reasoning" in found("", cost + " 추론 모델의 정답률도 그대로임.")


def test_an_idiom_in_the_title_leaves_the_body_mention() -> None:
    [match] = [
        m
        for m in matches("Why attention layers have drawn attention", "Attention is all.")
        if m.term.term == "Attention"
    ]
    assert match.in_title and match.start == len("Why ")


# One ML sentence per entry with sense rules: the rules must not take a note off ordinary ML text.
ML_SENTENCES = {
    "Pre-training": "Pretrained on 2T tokens, the model transfers to ten downstream tasks.",
    "Fine-tuning": "We fine-tune Llama 3 on 10k medical question-answer pairs.",
    "Reinforcement learning": "RL from verifier feedback teaches the policy to write proofs.",
    "Transformer": "A transformer reads the whole sequence at once with self-attention.",
    "Attention": "Each head's attention pattern shows which words the model links.",
    "Large language model": "The LLM answers in Korean even when asked in English.",
    "Diffusion Transformer": "DiT replaces the U-Net with transformer blocks over latent patches.",
    "Diffusion model": "A video diffusion model generates 10-second clips from text prompts.",
    "Model scaling": "Scaling laws predict the loss of a 70B model from runs with 1B parameters.",
    "Reasoning": "Chain-of-thought prompting lets a model show its work on math problems.",
    "Data contamination": "Data leakage from the test set inflates the benchmark score.",
    "Benchmark": "On the MMLU benchmark the small model trails GPT-4 by 5 points.",
    "Quantization": "Post-training quantization shrinks the weights to 4 bits.",
    "GPU": "Training took 2,000 GPU hours on H100s.",
    "Mixture of experts": "An MoE layer routes each token to 2 of 64 experts.",
    "Retrieval-augmented generation": "RAG fetches passages from a vector index before answering.",
    "Embedding": "Sentence embeddings from the encoder cluster by topic.",
    "Distributed training": "Distributed training across 512 GPUs uses all-reduce every step.",
    "Inference": "Batching requests raises inference throughput fourfold on one GPU.",
    "Agent": "The agent calls a search tool, reads the results and plans its next step.",
    "Hallucination": "Retrieval grounding reduces hallucination in the model's answers.",
    "Software testing and verification": "Formal verification proves the compiler pass correct.",
    "Multimodal": "A multimodal model answers questions about charts and photos.",
    "Robotics": "A humanoid robot learns to walk in simulation and transfers the policy.",
    "Neural network": "A neural network with two hidden layers fits the data.",
    "Deep learning": "Deep learning replaced hand-made features in speech recognition.",
    "Convolutional neural network": "A CNN with 3x3 filters detects edges in the first layer.",
    "State space model": "A state space model processes a million-token sequence in linear time.",
    "Mamba": "Mamba layers replace attention in half of the hybrid model's blocks.",
    "Activation function": "Swapping ReLU for GELU changes the network's accuracy by 0.3 points.",
    "Logits": "We add a bias to the logits before sampling the next token.",
    "BERT": "BERT-base fine-tuned on reviews classifies sentiment with 94% accuracy.",
    "GPT": "GPT-4 writes the first draft and a smaller model checks it.",
    "Foundation model": "A foundation model for weather predicts ten days ahead.",
    "Small language model": "An SLM with 1B parameters runs on a laptop CPU.",
    "Positional encoding": "RoPE lets the model extrapolate to longer context lengths.",
    "Multi-head attention": "Grouped-query attention shares keys across heads to shrink the cache.",
    "Vision-language-action model": "A VLA model maps camera images and instructions to robot "
    "actions.",
    "Backpropagation": "Backpropagation computes the gradient of every weight in one pass.",
    "Stochastic gradient descent": "SGD with momentum converges as fast as Adam here.",
    "Learning rate": "A cosine learning rate schedule with warmup stabilizes training.",
    "Batch size": "Doubling the batch size halves the number of optimizer steps per epoch.",
    "Loss function": "The loss function penalizes confident wrong predictions more.",
    "Dropout": "Dropout of 0.1 on the attention weights reduces overfitting.",
    "Regularization": "L2 regularization keeps the weights small.",
    "Early stopping": "Early stopping halts training when the validation loss stops falling.",
    "Curriculum learning": "Curriculum learning feeds the model easier examples first.",
    "Knowledge distillation": "Distillation from GPT-4 outputs trains a 7B student model.",
    "Supervised learning": "Supervised learning on labeled images needs millions of examples.",
    "Unsupervised learning": "Unsupervised pretraining on unlabeled audio helps speech models.",
    "Meta-learning": "Meta-learning trains a model to adapt to new tasks from five examples.",
    "Continual learning": "Continual learning without replay suffers catastrophic forgetting.",
    "Active learning": "Active learning picks which unlabeled samples to send to annotators.",
    "Post-training": "Post-training with RLHF and DPO turns the base model into an assistant.",
    "Direct preference optimization": "DPO trains on preference pairs without a reward model.",
    "Proximal policy optimization": "PPO clips the policy update to keep the reward stable.",
    "Low-rank adaptation": "LoRA adds low-rank matrices to the frozen weights.",
    "Multi-armed bandit": "A bandit algorithm balances exploration and reward in ad ranking.",
    "Exploration-exploitation trade-off": "The agent handles the exploration-exploitation "
    "trade-off with an entropy bonus.",
    "Online learning": "Online learning updates the model as each new data point streams in.",
    "Regret minimization": "Regret minimization in self-play converges to a Nash equilibrium.",
    "Generalization": "Generalization to unseen tasks improves with model size.",
    "Local minimum": "Gradient descent on the loss can stall in a local minimum.",
    "Expressive power": "The expressive power of GNNs is bounded by the Weisfeiler-Lehman test.",
    "Lottery ticket hypothesis": "Lottery tickets are sparse subnetworks found by pruning.",
    "Entropy": "We add an entropy bonus so the policy keeps exploring.",
    "Optimal transport": "Optimal transport aligns the two embedding distributions.",
    "Support vector machine": "An SVM with an RBF kernel separates the two classes.",
    "Decision tree": "A decision tree splits the data on the most informative feature.",
    "Clustering": "K-means clustering groups the embeddings into 50 topics.",
    "Dimensionality reduction": "PCA reduces the 768-dimensional features to 50.",
    "Cross-validation": "Five-fold cross-validation picks the regularization strength for the "
    "model.",
    "Tokenizer": "The tokenizer splits Korean words into subword tokens.",
    "Speculative decoding": "A draft model proposes five tokens that the large model verifies.",
    "Beam search": "Beam search with width 4 improves translation quality.",
    "Masked language model": "A masked language model predicts the hidden tokens.",
    "In-context learning": "In-context learning from three demonstrations solves the task.",
    "Zero-shot learning": "Zero-shot, the model labels images of classes it never saw.",
    "Tool use": "Tool use lets the assistant call a calculator API.",
    "Model Context Protocol": "MCP servers expose a company's tools to the agent.",
    "Multi-agent system": "A multi-agent system of LLM agents splits coding and review roles.",
    "Code generation": "Code generation models solve 80% of HumanEval problems.",
    "Emergent abilities": "Emergent abilities appear suddenly as models scale up.",
    "Model collapse": "Training on generated data for five generations leads to model collapse.",
    "Sycophancy": "Sycophancy makes the model agree with users who are wrong.",
    "AI alignment": "AI alignment research uses human feedback to shape model behavior.",
    "Red teaming": "Red teaming found prompts that make the model leak system instructions.",
    "Jailbreak": "Jailbreak prompts trick the model into ignoring its safety rules.",
    "Guardrails": "Guardrails filter harmful prompts before they reach the model.",
    "Watermarking": "Watermarking marks AI-generated text so detectors can spot it.",
    "Data poisoning": "Data poisoning with a hidden trigger plants a backdoor in the classifier.",
    "Machine unlearning": "Machine unlearning removes one user's data without retraining.",
    "Interpretability": "Interpretability tools show which input features drove the prediction.",
    "Mechanistic interpretability": "Mechanistic interpretability traces the circuit that adds "
    "numbers.",
    "Sparse autoencoder": "A sparse autoencoder splits the activations into interpretable "
    "features.",
    "Perplexity": "Perplexity on held-out text drops as the model grows.",
    "Area under the ROC curve": "The detector reaches an AUROC of 0.97.",
    "Model calibration": "Temperature scaling fixes the model's miscalibration.",
    "BLEU": "The system gains 2 BLEU on English-German translation.",
    "ROUGE": "Summaries score 45 ROUGE-L on CNN/DailyMail.",
    "Ablation study": "Ablations show that the memory module gives most of the gain.",
    "Leaderboard": "The open model tops the leaderboard for coding benchmarks.",
    "Elo rating": "Chatbot Arena gives the model an Elo rating of 1,300.",
    "Generative adversarial network": "A GAN generates realistic faces from noise.",
    "Consistency model": "A consistency model samples an image in one step.",
    "Energy-based model": "An energy-based model is trained with Langevin sampling.",
    "TPU": "The model was trained on 4,096 TPU v5 chips.",
    "FLOPs": "The method cuts inference FLOPs by 40% at the same accuracy.",
    "Pruning": "Magnitude pruning removes half of the weights.",
    "Sparsity": "Activation sparsity lets the kernel skip 80% of the multiplications.",
    "Pipeline parallelism": "Pipeline parallelism splits the layers across eight GPUs.",
    "Gradient checkpointing": "Gradient checkpointing trades compute for activation memory.",
    "Kernel fusion": "Kernel fusion merges the layer norm and matmul into one GPU kernel.",
    "Prefill": "Prefill of a 32k-token prompt dominates time to first token.",
    "Continuous batching": "Continuous batching admits new requests as others finish.",
    "On-device AI": "On-device inference keeps the user's photos private.",
    "Label noise": "Label noise in crowd-sourced datasets hurts the classifier.",
    "Class imbalance": "Class imbalance leaves rare diseases misclassified.",
    "Data-centric AI": "Data-centric AI improves the labels rather than the model.",
    "Data deduplication": "Deduplication of the pretraining corpus removed 30% of documents.",
    "Distribution shift": "Under distribution shift the model's accuracy drops by 20 points.",
    "Object detection": "YOLO detects pedestrians in each video frame.",
    "Image segmentation": "Segment Anything produces masks for any object in an image.",
    "Neural radiance field": "A NeRF renders novel views of the scene.",
    "Optical character recognition": "OCR extracts the text from scanned invoices.",
    "Depth estimation": "Monocular depth estimation from a single camera image.",
    "Super-resolution": "Super-resolution upscales low-resolution video frames fourfold.",
    "Natural language processing": "NLP models now handle 200 languages.",
    "Named entity recognition": "NER tags people and places in news text.",
    "Automatic speech recognition": "ASR transcribes meeting audio with a 5% word error rate.",
    "Text-to-speech": "A TTS model clones a voice from ten seconds of audio.",
    "Sim-to-real": "Domain randomization narrows the sim-to-real gap for the robot.",
    "Embodied AI": "Embodied AI agents learn to navigate homes in simulation.",
    "Motion planning": "Motion planning keeps the robot arm clear of obstacles.",
    "Teleoperation": "Teleoperation data from VR headsets trains the robot policy.",
    "Message passing": "Message passing updates each node from its neighbors in the GNN.",
    "Collaborative filtering": "Collaborative filtering recommends items that similar users rated.",
}


def test_every_ruled_entry_has_an_ml_sentence() -> None:
    assert sorted(ML_SENTENCES) == sorted(t.term for t in RULED)


@pytest.mark.parametrize("term", sorted(ML_SENTENCES))
def test_sense_rules_keep_the_note_on_ml_text(term: str) -> None:
    assert term in found("", ML_SENTENCES[term])


# The names that are the reason for an entry's `context`: alone, none may satisfy it, or the name
# would vouch for its own sense (a word list holding "transformer", a context of "model" for
# "draft model").
AMBIGUOUS = {
    "Transformer": ["transformer", "transformers", "트랜스포머"],
    "Attention": ["attention"],
    "Diffusion Transformer": ["DiT"],
    "Diffusion model": ["diffusion", "diffusion model", "diffusion models", "확산 모델"],
    "Model scaling": ["scaling law", "scaling laws", "scale up"],
    "Reasoning": ["reasoning", "추론", "CoT"],
    "Data contamination": ["data leakage"],
    "Quantization": ["quantization", "quantized", "양자화"],
    "GPU": ["accelerator", "accelerators"],
    "Retrieval-augmented generation": ["rag"],
    "Embedding": ["embedding", "embeddings", "임베딩"],
    "Distributed training": ["distributed training", "분산 학습", "collective communication"],
    "Inference": ["inference", "인퍼런스"],
    "Agent": ["agent", "agents", "에이전트"],
    "Hallucination": ["hallucination", "hallucinations", "환각"],
    "Software testing and verification": ["verification"],
    "Multimodal": ["multimodal", "multi-modal", "멀티모달"],
    "Robotics": ["robot", "robots", "robotic", "robotics"],
    "Convolutional neural network": ["CNN"],
    "State space model": ["SSM", "SSMs"],
    "Mamba": ["Mamba", "맘바"],
    "Activation function": ["sigmoid"],
    "BERT": ["Bert", "버트"],
    "Positional encoding": ["RoPE", "rope"],
    "Multi-head attention": ["MHA"],
    "Vision-language-action model": ["VLA", "VLAs"],
    "Stochastic gradient descent": ["SGD"],
    "Learning rate": ["learning rate", "learning rates"],
    "Batch size": ["batch size", "배치 크기"],
    "Loss function": ["loss function", "cost function", "objective function", "손실 함수"],
    "Dropout": ["dropout", "드롭아웃"],
    "Regularization": ["regularization", "정규화"],
    "Early stopping": ["early stopping", "조기 종료"],
    "Curriculum learning": ["curriculum learning", "curriculum-based training", "커리큘럼 학습"],
    "Knowledge distillation": ["distillation", "KD"],
    "Supervised learning": ["supervised training", "지도 학습"],
    "Meta-learning": ["meta-learning", "learning to learn", "메타러닝"],
    "Continual learning": ["lifelong learning", "incremental learning", "지속 학습"],
    "Active learning": ["active learning", "능동 학습"],
    "Post-training": ["post-training", "사후학습"],
    "Direct preference optimization": ["DPO"],
    "Proximal policy optimization": ["PPO"],
    "Low-rank adaptation": ["LoRA", "LoRa"],
    "Multi-armed bandit": ["bandit", "bandits"],
    "Online learning": ["online learning", "온라인 학습"],
    "Generalization": ["generalization", "일반화"],
    "Local minimum": ["local minima", "saddle point", "지역 최솟값"],
    "Expressive power": ["expressive power", "expressivity", "expressiveness", "표현력"],
    "Lottery ticket hypothesis": ["lottery ticket", "lottery tickets"],
    "Entropy": ["entropy", "엔트로피"],
    "Optimal transport": ["optimal transport", "최적 수송"],
    "Clustering": ["clustering", "군집화"],
    "Cross-validation": ["cross-validation", "교차 검증"],
    "Speculative decoding": ["draft model", "draft models"],
    "Masked language model": ["MLM"],
    "In-context learning": ["ICL"],
    "Tool use": ["tool use", "function calling", "도구 사용"],
    "Model Context Protocol": ["MCP"],
    "Multi-agent system": ["multi-agent system", "multi-agent systems"],
    "Code generation": ["code generation", "program synthesis", "코드 생성"],
    "Emergent abilities": ["emergent behavior", "emergent behaviour"],
    "Model collapse": ["model collapse", "model collapses"],
    "Sycophancy": ["sycophancy", "아첨"],
    "AI alignment": ["value alignment"],
    "Red teaming": ["red team", "red teaming", "red-teaming"],
    "Jailbreak": ["jailbreak", "jailbroken", "탈옥"],
    "Guardrails": ["guardrails", "safety guardrails", "가드레일"],
    "Watermarking": ["watermark", "watermarking", "워터마킹"],
    "Data poisoning": ["backdoor attack", "backdoored"],
    "Machine unlearning": ["unlearning"],
    "Interpretability": ["interpretability", "해석 가능성"],
    "Mechanistic interpretability": ["circuit analysis"],
    "Sparse autoencoder": ["SAE", "SAEs"],
    "Perplexity": ["perplexity", "PPL", "퍼플렉시티"],
    "Area under the ROC curve": ["AUC", "area under the curve"],
    "Model calibration": ["ECE", "model calibration"],
    "BLEU": ["bleu"],
    "ROUGE": ["rouge"],
    "Ablation study": ["ablation", "ablations"],
    "Leaderboard": ["leaderboard", "리더보드"],
    "Elo rating": ["Elo rating", "Elo ratings", "엘로 점수"],
    "Generative adversarial network": ["GaN"],
    "Consistency model": ["consistency model", "consistency models"],
    "Energy-based model": ["EBM"],
    "TPU": ["TPU"],
    "FLOPs": ["flop", "FLOPs"],
    "Pruning": ["pruning", "pruned", "가지치기"],
    "Sparsity": ["sparsity", "희소성"],
    "Pipeline parallelism": ["pipeline parallelism"],
    "Gradient checkpointing": ["rematerialization"],
    "Prefill": ["prefill", "prefilling", "프리필"],
    "Continuous batching": ["dynamic batching"],
    "On-device AI": ["on-device", "edge device", "edge devices"],
    "Label noise": ["label errors"],
    "Class imbalance": ["long-tailed distribution"],
    "Data-centric AI": ["data-centric"],
    "Data deduplication": ["deduplication", "dedup", "중복 제거"],
    "Distribution shift": ["distribution shift", "분포 변화"],
    "Object detection": ["YOLO"],
    "Image segmentation": ["segmentation"],
    "Neural radiance field": ["NeRF", "nerf"],
    "Optical character recognition": ["OCR"],
    "Depth estimation": ["depth estimation", "깊이 추정"],
    "Super-resolution": ["super-resolution", "초해상도"],
    "Named entity recognition": ["NER"],
    "Automatic speech recognition": ["ASR"],
    "Text-to-speech": ["TTS"],
    "Sim-to-real": ["reality gap"],
    "Embodied AI": ["embodied intelligence", "embodied agent"],
    "Motion planning": ["path planning", "trajectory optimization", "동작 계획"],
    "Teleoperation": ["원격 조종"],
    "Message passing": ["message passing", "message-passing"],
    "Collaborative filtering": ["matrix factorization"],
}


def test_every_entry_with_a_context_names_its_ambiguous_names() -> None:
    assert sorted(AMBIGUOUS) == sorted(t.term for t in TERMS if t.context)


@pytest.mark.parametrize("term", sorted(AMBIGUOUS))
def test_an_ambiguous_name_does_not_vouch_for_its_own_sense(term: str) -> None:
    entry = next(t for t in TERMS if t.term == term)
    for name in AMBIGUOUS[term]:
        assert entry.pattern.search(name), name  # it is one of the entry's names
        assert not entry.fits(f"This week: {name}."), name


# the file's validation --------------------------------------------------------------------------
GOOD = "- term: Widget\n  ko: 위젯\n  note: 위젯은 작은 부품임.\n"


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ("  contxt: [$ml]\n", "unknown key 'contxt'"),
        ("  context: $ml\n", "context must be a non-empty list"),
        ("  context: []\n", "context must be a non-empty list"),
        ("  not_with: [3]\n", "not_with has a bad word 3"),
        ("  not_with: [' padded']\n", "not_with has a bad word ' padded'"),
        ("  context: [$nlp]\n", "context may not use '$nlp'"),
        ("  context: ['gad*get']\n", "may end in * only"),
        ("  context: ['*']\n", "may end in * only"),
        ("  except_in: [$ml]\n", "except_in may not use '$ml'"),
        ("  except_in: [gadget shop]\n", "except_in phrase 'gadget shop' names no name of it"),
        ("  aliases: gizmo\n", "aliases must be a list of words"),
    ],
)
def test_a_malformed_entry_is_rejected_by_name(extra: str, complaint: str) -> None:
    with pytest.raises(GlossaryError, match="glossary entry 'Widget'") as error:
        parse_glossary(GOOD + extra)
    assert complaint in str(error.value)


def test_an_entry_without_a_note_or_a_list_without_entries_is_rejected() -> None:
    with pytest.raises(GlossaryError, match="'Widget': note is missing"):
        parse_glossary("- term: Widget\n  ko: 위젯\n")
    with pytest.raises(GlossaryError, match="glossary entry 2 is not a mapping"):
        parse_glossary(GOOD + "- just text\n")
    with pytest.raises(GlossaryError, match="must be a list of entries"):
        parse_glossary("term: Widget\n")


def test_a_wellformed_entry_keeps_its_rules() -> None:
    [term] = parse_glossary(
        GOOD + "  aliases: [gizmo]\n  context: [$ml, gear*]\n  not_with: [shop]\n"
        "  except_in: [widget shop]\n"
    )
    assert term.context == ("$ml", "gear*") and term.not_with == ("shop",)
    assert term.fits("a gizmo with gears") and not term.fits("a gizmo in a shop with gears")
    hit = term.mention("the widget shop sells a gizmo")
    assert hit is not None and hit[0] == "gizmo"


def test_an_english_name_with_a_korean_particle_is_found() -> None:
    """Code-mixed briefs attach particles to English terms: RLHF로, benchmark를."""
    found = find_term("RLHF로 학습한 언어모델의 보상 모델을 살핌")
    assert found is not None and found.term == "Reinforcement learning from human feedback"
    other = find_term("RLHFx로 학습")  # a longer word is not the name
    assert other is None or other.term != found.term
