//! XGBoost tree ensembles evaluated in Rust from the model's JSON file: predictions and exact
//! `TreeSHAP` contributions for the few rows a request asks about.
//!
//! Why not XGBoost itself: for one row, its C API costs far more than the trees. A served
//! salary prediction spent about 40 % of its CPU samples in `XGBoosterPredictFromDMatrix` — 24 %
//! re-deriving every tree's depth (`MaxDepth`) on each call — 12 % building a `DMatrix` from the
//! dense row and 7 % reading the machine's CPU quota to size a thread pool (`perf record
//! --call-graph dwarf` of `rats serve` under wrk sending `scripts/bench-serve`'s `?top=0` bodies
//! at 16 connections). Here the depths and node means are computed once, at load, and a row is
//! walked in place.
//!
//! The arithmetic is XGBoost's CPU predictor's: `f32`, each output starting from the base score
//! and adding its trees' leaves in tree order, and `TreeSHAP` as its `RegTree::TreeShap` (Lundberg
//! et al., "Consistent individualized feature attribution for tree ensembles", algorithm 2)
//! with the same operations in the same order, so both give the same numbers (the tests compare
//! them on trained models). Regression with the identity link only (squared error, quantiles):
//! what the salary model trains; any other model file is refused at load.
//!
//! `TreeSHAP` walks every root-to-leaf path of every tree for each row, with `O(d²)` arithmetic
//! per leaf; at a leaf that arithmetic has only `2^d` possible outcomes, so a forest that will
//! explain many rows (a server's) computes them once ([`Forest::answer_ahead`], [`Answers`]) and
//! a row only looks its own up.

use rayon::prelude::*;
use serde::Deserialize;

use super::MlError;
use super::boost::Matrix;

/// The objectives whose prediction is the raw sum of leaves (identity link).
const IDENTITY_OBJECTIVES: [&str; 2] = ["reg:squarederror", "reg:quantileerror"];

/// A tree ensemble ready to evaluate: every tree, the output each adds to, and each output's
/// base score.
#[derive(Debug, Clone)]
pub struct Forest {
    trees: Vec<Tree>,
    /// `groups[t]`: the output tree `t` adds to.
    groups: Vec<usize>,
    base: Vec<f32>,
    features: usize,
}

#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
    /// Each node's mean prediction over the training rows, weighted by cover (`TreeSHAP`'s
    /// expected values).
    means: Vec<f32>,
    /// The longest root-to-leaf path, in splits.
    depth: usize,
    /// The `TreeSHAP` answers worked out ahead ([`Forest::answer_ahead`]); `None`: its paths are
    /// walked per row instead.
    answers: Option<Answers>,
}

/// The most values a forest's [`Answers`] may hold together (256 MiB). A leaf below `d` splits
/// needs `2^d` answers of at most `d` values each: the demo's salary model (300 trees of depth 6)
/// needs at most 2.3 million values, a 5-fold one of depth 9 at most 46 million (183 MB). Trees
/// past the budget are explained by walking their paths for each row (the same numbers, several
/// times the work), so a deeper model costs time, not unbounded memory.
const MOST_ANSWER_VALUES: usize = 64 << 20;

/// Rows explained per parallel task: a depth-9 model explains a row in about a millisecond, so a
/// task is long enough to outweigh rayon's hand-off and a request's one row never pays it.
const ROWS_PER_TASK: usize = 64;

/// One tree's `TreeSHAP` worked out ahead of time (the idea of Yang's "Fast `TreeSHAP`" v2): what a
/// leaf adds to the contributions depends only on which of the splits above it the row follows,
/// so for every leaf and each of those `2^d` patterns the values are computed once, at load, by
/// the very operations a row with that pattern would cause. A row then walks the tree once, in
/// XGBoost's order, and adds each leaf's values for its pattern: the same numbers, without the
/// path arithmetic (`O(d²)` per leaf) at request time.
#[derive(Debug, Clone)]
struct Answers {
    /// Indexed by node id: what a row reaching the node adds.
    nodes: Vec<NodeAnswers>,
    /// The credited columns of each leaf (of each pair of leaves), in the order its values are
    /// added.
    columns: Vec<u32>,
    values: Vec<f32>,
    /// Every column some leaf credits, once: what a row's tree contributions are added from.
    credited: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Default)]
enum NodeAnswers {
    /// A split with a split below it: the walk goes on to its children.
    #[default]
    Split,
    /// A leaf below `d` splits: `2^d` rows, by pattern (bit `k` set: the row follows the split
    /// at level `k` towards the leaf).
    Leaf(Rows),
    /// A split whose two children are leaves (they credit the same columns): `2^(k+1)` rows of
    /// both leaves' values, the leaf the row takes first, by the pattern of the `k` splits above
    /// (shifted left) and the side the row takes (the lowest bit, 1 for right). Why: a row reads
    /// both leaves of such a split, and the tables are larger than a core's cache, so reading
    /// them from one place instead of two saves a cache miss per pair (79 % of the salary
    /// model's leaves are in pairs).
    Pair(Rows),
}

/// Where a leaf's (or a pair's) answers are.
#[derive(Debug, Clone, Copy)]
struct Rows {
    /// Where its columns start in [`Answers::columns`].
    columns: u32,
    /// Where its rows start in [`Answers::values`].
    values: u32,
    /// Columns it credits (its path's distinct features).
    width: u32,
}

impl Answers {
    /// Rows that start where the values end now, crediting `columns` (recorded here).
    fn rows_crediting(&mut self, columns: &[u32]) -> Rows {
        let rows = Rows {
            columns: self.columns.len() as u32,
            values: self.values.len() as u32,
            width: columns.len() as u32,
        };
        self.columns.extend_from_slice(columns);
        rows
    }

    /// Adds row `index` of `rows` — the values of `leaves` leaves crediting the same columns —
    /// to `phi`, leaf by leaf.
    fn add(&self, rows: Rows, index: usize, leaves: usize, phi: &mut [f32]) {
        let width = rows.width as usize;
        if width == 0 {
            return;
        }
        let columns = &self.columns[rows.columns as usize..][..width];
        let values = &self.values[rows.values as usize + index * leaves * width..][..leaves * width];
        for leaf in values.chunks_exact(width) {
            for (&column, &value) in columns.iter().zip(leaf) {
                phi[column as usize] += value;
            }
        }
    }
}

/// Each leaf's answers as [`Tree::answer_from`] works them out, before pairs are put together.
struct LeafTable {
    /// Indexed by node id; a leaf's rows and its level (splits above it) once it is reached.
    leaves: Vec<Option<(Rows, u32)>>,
    columns: Vec<u32>,
    values: Vec<f32>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Children, `None` for a leaf.
    children: Option<(u32, u32)>,
    feature: u32,
    /// The split threshold (left when the value is below it), or a leaf's value.
    value: f32,
    default_left: bool,
    /// Training rows' hessian sum through the node (the row count for squared error).
    cover: f32,
}

impl Node {
    /// The child a row with `x` in the split's feature goes to (missing values go the default
    /// way).
    fn next(&self, x: f32, (left, right): (u32, u32)) -> u32 {
        let go_left = if x.is_nan() { self.default_left } else { x < self.value };
        if go_left { left } else { right }
    }
}

// The parts of XGBoost's JSON model format read here.
#[derive(Deserialize)]
struct File {
    learner: Learner,
}

#[derive(Deserialize)]
struct Learner {
    #[serde(rename = "learner_model_param")]
    parameters: ModelParam,
    gradient_booster: Booster,
    objective: Objective,
}

#[derive(Deserialize)]
struct ModelParam {
    /// One number, or a bracketed list of one per output ("[5E-1,5E-1]").
    base_score: String,
    num_feature: String,
}

#[derive(Deserialize)]
struct Objective {
    name: String,
}

#[derive(Deserialize)]
struct Booster {
    name: String,
    model: Option<Trees>,
}

#[derive(Deserialize)]
struct Trees {
    tree_info: Vec<usize>,
    trees: Vec<TreeFile>,
}

#[derive(Deserialize)]
struct TreeFile {
    left_children: Vec<i64>,
    right_children: Vec<i64>,
    split_indices: Vec<u32>,
    split_conditions: Vec<f32>,
    default_left: Vec<Flag>,
    split_type: Vec<u8>,
    sum_hessian: Vec<f32>,
}

/// A boolean XGBoost writes as 0/1 (or as `true`/`false` in older files).
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Flag {
    Number(u8),
    Bool(bool),
}

impl Flag {
    fn is_set(self) -> bool {
        match self {
            Flag::Number(n) => n != 0,
            Flag::Bool(b) => b,
        }
    }
}

fn invalid(message: impl std::fmt::Display) -> MlError {
    MlError::Invalid(format!("XGBoost model: {message}"))
}

impl Forest {
    /// Reads a model saved in XGBoost's JSON format ([`super::boost::Model::to_json`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, MlError> {
        let file: File = serde_json::from_slice(bytes).map_err(invalid)?;
        let learner = file.learner;
        if !IDENTITY_OBJECTIVES.contains(&learner.objective.name.as_str()) {
            return Err(invalid(format!(
                "objective {} is not evaluated here (only {})",
                learner.objective.name,
                IDENTITY_OBJECTIVES.join(", ")
            )));
        }
        let model = match (learner.gradient_booster.name.as_str(), learner.gradient_booster.model) {
            ("gbtree", Some(model)) => model,
            (name, _) => return Err(invalid(format!("booster {name} is not evaluated here (only gbtree)"))),
        };
        let features: usize = learner.parameters.num_feature.parse().map_err(invalid)?;
        let base = base_scores(&learner.parameters.base_score)?;
        if model.tree_info.len() != model.trees.len() {
            return Err(invalid("tree_info and trees differ in length"));
        }
        if let Some(group) = model.tree_info.iter().find(|&&g| g >= base.len()) {
            return Err(invalid(format!("a tree adds to output {group} of {}", base.len())));
        }
        let trees: Vec<Tree> = model
            .trees
            .into_iter()
            .enumerate()
            .map(|(t, file)| Tree::new(&file, features).map_err(|e| invalid(format!("tree {t}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(Forest {
            trees,
            groups: model.tree_info,
            base,
            features,
        })
    }

    /// Works out every tree's [`Answers`] (within [`MOST_ANSWER_VALUES`]), on all cores, so
    /// that [`Self::contributions`] looks each row's up instead of computing it: worth it for a
    /// forest that will explain many rows. It costs time once and memory (the values, 4 bytes
    /// each): for 300 trees of depth 9 about 1 s on two cores and 190 MB, for depth 6 under
    /// 0.1 s and 10 MB (BENCHMARKS.md).
    /// Contributions are asked of single-output forests only; others are left as they are.
    pub fn answer_ahead(&mut self) {
        if self.outputs() == 1 {
            answer_ahead(&mut self.trees, MOST_ANSWER_VALUES);
        }
    }

    /// Values predicted per row.
    pub fn outputs(&self) -> usize {
        self.base.len()
    }

    fn rows<'m>(&self, x: &'m Matrix) -> Result<std::slice::ChunksExact<'m, f32>, MlError> {
        if x.cols != self.features || x.data.len() != x.rows * x.cols || x.cols == 0 {
            return Err(MlError::Invalid(format!(
                "a matrix of {} columns for a model of {} features",
                x.cols, self.features
            )));
        }
        Ok(x.data.chunks_exact(x.cols))
    }

    /// Predictions, [`Self::outputs`] values per row (row-major), as XGBoost predicts them.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<f32>, MlError> {
        let outputs = self.outputs();
        let mut out = Vec::with_capacity(x.rows * outputs);
        for row in self.rows(x)? {
            let first = out.len();
            out.extend_from_slice(&self.base);
            for (tree, &group) in self.trees.iter().zip(&self.groups) {
                out[first + group] += tree.leaf(row);
            }
        }
        Ok(out)
    }

    /// SHAP values of a single-output model: per row, one contribution per column and the bias
    /// last (`cols + 1` values), summing to the prediction — XGBoost's `pred_contribs`. Many
    /// rows (the skill premiums explain every stored posting) are shared out over all cores;
    /// a request's few stay on the caller's thread.
    pub fn contributions(&self, x: &Matrix) -> Result<Vec<f32>, MlError> {
        if self.outputs() != 1 {
            return Err(MlError::Invalid(format!(
                "contributions of a model of {} outputs (one only)",
                self.outputs()
            )));
        }
        let width = x.cols + 1;
        let mut out = vec![0.0_f32; x.rows * width];
        let rows = self.rows(x)?;
        if x.rows <= ROWS_PER_TASK {
            self.contributions_into(rows, &mut out);
        } else {
            x.data
                .par_chunks(x.cols * ROWS_PER_TASK)
                .zip(out.par_chunks_mut(width * ROWS_PER_TASK))
                .for_each(|(rows, out)| self.contributions_into(rows.chunks_exact(x.cols), out));
        }
        Ok(out)
    }

    /// [`Self::contributions`] of `rows` into `out` (zeroed, `cols + 1` values per row).
    fn contributions_into<'m>(&self, rows: impl Iterator<Item = &'m [f32]>, out: &mut [f32]) {
        let cols = self.features;
        let width = cols + 1;
        let mut path = path_buffer(self.trees.iter().map(|t| t.depth).max().unwrap_or(0));
        // One tree's contributions, added to the row's as XGBoost adds them; only the columns
        // a tree splits on (and the bias) are touched, so only those are added and reset (a
        // column listed twice adds 0 the second time).
        let mut tree_phi = vec![0.0_f32; width];
        let mut touched: Vec<usize> = Vec::new();
        let mut walk = Vec::new();
        for (row, phi) in rows.zip(out.chunks_exact_mut(width)) {
            for tree in &self.trees {
                tree_phi[cols] += tree.means[0];
                touched.clear();
                let credited = if let Some(answers) = &tree.answers {
                    tree.shap_ahead(answers, row, &mut tree_phi, &mut walk);
                    &answers.credited
                } else {
                    tree.shap(row, &mut tree_phi, &mut path, &mut touched);
                    &touched
                };
                for &column in credited.iter().chain([&cols]) {
                    phi[column] += tree_phi[column];
                    tree_phi[column] = 0.0;
                }
            }
            phi[cols] += self.base[0];
        }
    }
}

fn base_scores(text: &str) -> Result<Vec<f32>, MlError> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    let scores = inner
        .split(',')
        .map(|s| s.trim().parse::<f32>().map_err(|e| invalid(format!("base_score {text:?}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if scores.is_empty() {
        return Err(invalid("no base_score"));
    }
    Ok(scores)
}

impl Tree {
    fn new(file: &TreeFile, features: usize) -> Result<Self, String> {
        let count = file.left_children.len();
        let lengths = [
            file.right_children.len(),
            file.split_indices.len(),
            file.split_conditions.len(),
            file.default_left.len(),
            file.split_type.len(),
            file.sum_hessian.len(),
        ];
        if count == 0 || lengths.iter().any(|&n| n != count) {
            return Err(format!("node arrays of lengths {count} and {lengths:?}"));
        }
        let child = |id: i64| u32::try_from(id).ok().filter(|&c| (c as usize) < count);
        let mut nodes = Vec::with_capacity(count);
        for i in 0..count {
            let children = match (file.left_children[i], file.right_children[i]) {
                (-1, -1) => None,
                (left, right) => match (child(left), child(right)) {
                    (Some(left), Some(right)) => Some((left, right)),
                    _ => return Err(format!("node {i} has children {left} and {right} of {count} nodes")),
                },
            };
            if children.is_some() {
                if file.split_type[i] != 0 {
                    return Err(format!("node {i} splits on a category (only numeric splits are evaluated here)"));
                }
                if file.split_indices[i] as usize >= features {
                    return Err(format!("node {i} splits on feature {} of {features}", file.split_indices[i]));
                }
            }
            nodes.push(Node {
                children,
                feature: file.split_indices[i],
                value: file.split_conditions[i],
                default_left: file.default_left[i].is_set(),
                cover: file.sum_hessian[i],
            });
        }
        let (means, depth) = means_and_depth(&nodes)?;
        Ok(Tree {
            nodes,
            means,
            depth,
            answers: None,
        })
    }

    fn leaf(&self, row: &[f32]) -> f32 {
        let mut node = &self.nodes[0];
        while let Some(children) = node.children {
            node = &self.nodes[node.next(row[node.feature as usize], children) as usize];
        }
        node.value
    }
}

/// Each node's cover-weighted mean value (XGBoost's `FillNodeMeanValue`) and the tree's depth,
/// checking on the way that every node is reached once from the root (a tree, not a graph).
fn means_and_depth(nodes: &[Node]) -> Result<(Vec<f32>, usize), String> {
    let mut means = vec![0.0_f32; nodes.len()];
    let mut seen = vec![false; nodes.len()];
    // Children come after their parent in this order, so its reverse computes them first.
    let mut order = vec![(0_usize, 0_usize)];
    let mut next = 0;
    while let Some(&(id, level)) = order.get(next) {
        next += 1;
        if std::mem::replace(&mut seen[id], true) {
            return Err(format!("node {id} is reached twice"));
        }
        if let Some((left, right)) = nodes[id].children {
            order.push((left as usize, level + 1));
            order.push((right as usize, level + 1));
        }
    }
    for &(id, _) in order.iter().rev() {
        let node = &nodes[id];
        means[id] = match node.children {
            None => node.value,
            Some((left, right)) => {
                let (left, right) = (left as usize, right as usize);
                let mut mean = means[left] * nodes[left].cover;
                mean += means[right] * nodes[right].cover;
                mean / node.cover
            }
        };
    }
    let depth = order.iter().map(|&(_, level)| level).max().unwrap_or(0);
    Ok((means, depth))
}

/// One feature on the path `TreeSHAP` follows: the share of training rows (zero) and of this
/// row (one) that pass its splits, and the permutation weight.
#[derive(Debug, Clone, Copy, Default)]
struct PathElement {
    /// The column, `None` for the root's placeholder.
    feature: Option<u32>,
    zero: f32,
    one: f32,
    weight: f32,
}

impl Tree {
    /// Adds this tree's SHAP values for `row` to `phi`, listing the columns it touches.
    fn shap(&self, row: &[f32], phi: &mut [f32], path: &mut [PathElement], touched: &mut Vec<usize>) {
        self.shap_from(row, phi, path, touched, (0, 0, 0), (1.0, 1.0, None));
    }

    /// XGBoost's `RegTree::TreeShap` with `condition` 0: at `node`, with the parent's path of
    /// `depth + 1` elements starting at `parent`, extended by `(zero, one, feature)`.
    fn shap_from(
        &self,
        row: &[f32],
        phi: &mut [f32],
        path: &mut [PathElement],
        touched: &mut Vec<usize>,
        (node_id, depth, parent): (usize, usize, usize),
        (zero, one, feature): (f32, f32, Option<u32>),
    ) {
        let start = parent + depth + 1;
        path.copy_within(parent..=parent + depth, start);
        extend(&mut path[start..], depth, zero, one, feature);
        let node = &self.nodes[node_id];
        let Some(children) = node.children else {
            for i in 1..=depth {
                let w = unwound_sum(&path[start..], depth, i);
                let element = path[start + i];
                if let Some(column) = element.feature {
                    let column = column as usize;
                    touched.push(column);
                    // XGBoost multiplies by the condition fraction too, 1 without conditions.
                    phi[column] += w * (element.one - element.zero) * node.value;
                }
            }
            return;
        };
        let hot = node.next(row[node.feature as usize], children) as usize;
        let cold = if hot == children.0 as usize { children.1 } else { children.0 } as usize;
        let hot_zero = self.nodes[hot].cover / node.cover;
        let cold_zero = self.nodes[cold].cover / node.cover;
        let (incoming_zero, incoming_one, depth) = take_off(&mut path[start..], depth, node.feature);
        let split = Some(node.feature);
        self.shap_from(
            row,
            phi,
            path,
            touched,
            (hot, depth + 1, start),
            (hot_zero * incoming_zero, incoming_one, split),
        );
        self.shap_from(
            row,
            phi,
            path,
            touched,
            (cold, depth + 1, start),
            (cold_zero * incoming_zero, 0.0, split),
        );
    }
}

/// Works out the [`Answers`] of the trees, in order, while their values fit in `room` (the rest
/// are left to walk their paths), each tree's on whichever core is free.
fn answer_ahead(trees: &mut [Tree], mut room: usize) {
    let mut answered = 0;
    for tree in trees.iter() {
        let Some(size) = tree.answers_size(room) else { break };
        room -= size;
        answered += 1;
    }
    trees[..answered]
        .par_iter_mut()
        .for_each(|tree| tree.answers = Some(tree.answers_ahead()));
}

impl Tree {
    /// At most how many values this tree's [`Answers`] hold, or `None` when more than `room`.
    fn answers_size(&self, room: usize) -> Option<usize> {
        let mut size = 0_usize;
        let mut pending = vec![(0_usize, 0_u32)];
        while let Some((id, splits)) = pending.pop() {
            match self.nodes[id].children {
                None => size = size.saturating_add((splits as usize).saturating_mul(1_usize.checked_shl(splits)?)),
                Some((left, right)) => pending.extend([(left as usize, splits + 1), (right as usize, splits + 1)]),
            }
            if size > room {
                return None;
            }
        }
        Some(size)
    }

    /// This tree's [`Answers`].
    fn answers_ahead(&self) -> Answers {
        let mut table = LeafTable {
            leaves: vec![None; self.nodes.len()],
            columns: Vec::new(),
            values: Vec::new(),
        };
        let mut path = path_buffer(self.depth);
        self.answer_from(&mut table, &mut path, (0, 0, 0), (0, 0), (1.0, 1.0, None));
        let mut credited: Vec<usize> = table.columns.iter().map(|&c| c as usize).collect();
        credited.sort_unstable();
        credited.dedup();
        self.paired(&table, credited)
    }

    /// [`Answers`] from each leaf's: the two leaves of a split read from one place.
    fn paired(&self, table: &LeafTable, credited: Vec<usize>) -> Answers {
        let mut answers = Answers {
            nodes: vec![NodeAnswers::Split; self.nodes.len()],
            columns: Vec::with_capacity(table.columns.len()),
            values: Vec::with_capacity(table.values.len()),
            credited,
        };
        let columns_of = |rows: Rows| &table.columns[rows.columns as usize..][..rows.width as usize];
        let row_of = |rows: Rows, pattern: usize| {
            let width = rows.width as usize;
            &table.values[rows.values as usize + pattern * width..][..width]
        };
        let mut paired = vec![false; self.nodes.len()];
        for (id, node) in self.nodes.iter().enumerate() {
            let Some((left, right)) = node.children else { continue };
            let (Some((left_rows, level)), Some((right_rows, _))) = (table.leaves[left as usize], table.leaves[right as usize]) else {
                continue;
            };
            if columns_of(left_rows) != columns_of(right_rows) {
                continue;
            }
            answers.nodes[id] = NodeAnswers::Pair(answers.rows_crediting(columns_of(left_rows)));
            // The leaves' bit for this split is the highest of their patterns.
            let taken = 1_usize << (level - 1);
            for index in 0..1_usize << level {
                let (above, right_taken) = (index >> 1, index & 1 == 1);
                let (first, second) = if right_taken {
                    (right_rows, left_rows)
                } else {
                    (left_rows, right_rows)
                };
                answers.values.extend_from_slice(row_of(first, above | taken));
                answers.values.extend_from_slice(row_of(second, above));
            }
            paired[left as usize] = true;
            paired[right as usize] = true;
        }
        for (id, leaf) in table.leaves.iter().enumerate() {
            let Some((rows, level)) = *leaf else { continue };
            if paired[id] {
                continue;
            }
            answers.nodes[id] = NodeAnswers::Leaf(answers.rows_crediting(columns_of(rows)));
            for pattern in 0..1_usize << level {
                answers.values.extend_from_slice(row_of(rows, pattern));
            }
        }
        answers
    }

    /// [`Self::shap_from`] for every pattern at once: at each split, both children are entered
    /// both as the row's way (`one` the incoming fraction) and as the other (`one` 0), and each
    /// leaf stores its values under the pattern that led there.
    fn answer_from(
        &self,
        table: &mut LeafTable,
        path: &mut [PathElement],
        (node_id, depth, parent): (usize, usize, usize),
        (pattern, level): (usize, u32),
        (zero, one, feature): (f32, f32, Option<u32>),
    ) {
        let start = parent + depth + 1;
        path.copy_within(parent..=parent + depth, start);
        extend(&mut path[start..], depth, zero, one, feature);
        let node = &self.nodes[node_id];
        let Some((left, right)) = node.children else {
            let first = if let Some((rows, _)) = table.leaves[node_id] {
                rows.values as usize + pattern * depth
            } else {
                // First reached: room for every pattern. Past the root's placeholder every path
                // element names a feature.
                let rows = Rows {
                    columns: table.columns.len() as u32,
                    values: table.values.len() as u32,
                    width: depth as u32,
                };
                table.leaves[node_id] = Some((rows, level));
                table
                    .columns
                    .extend(path[start + 1..=start + depth].iter().map(|e| e.feature.unwrap_or(0)));
                let first = table.values.len() + pattern * depth;
                table.values.resize(table.values.len() + (depth << level), 0.0);
                first
            };
            for i in 1..=depth {
                let w = unwound_sum(&path[start..], depth, i);
                let element = path[start + i];
                if element.feature.is_some() {
                    // As `shap_from` computes it (the condition fraction, 1, left out).
                    table.values[first + i - 1] = w * (element.one - element.zero) * node.value;
                }
            }
            return;
        };
        let (incoming_zero, incoming_one, depth) = take_off(&mut path[start..], depth, node.feature);
        for child in [left as usize, right as usize] {
            let child_zero = self.nodes[child].cover / node.cover;
            for follows in [true, false] {
                self.answer_from(
                    table,
                    path,
                    (child, depth + 1, start),
                    (pattern | usize::from(follows) << level, level + 1),
                    (
                        child_zero * incoming_zero,
                        if follows { incoming_one } else { 0.0 },
                        Some(node.feature),
                    ),
                );
            }
        }
    }

    /// Adds this tree's SHAP values for `row` to `phi` from its [`Answers`], visiting the leaves
    /// in [`Self::shap_from`]'s order (the row's way first) so the sums are the same bits.
    fn shap_ahead(&self, answers: &Answers, row: &[f32], phi: &mut [f32], walk: &mut Vec<(u32, usize, u32)>) {
        walk.clear();
        walk.push((0, 0, 0));
        while let Some((id, pattern, level)) = walk.pop() {
            let node = &self.nodes[id as usize];
            let Some(children) = node.children else {
                if let NodeAnswers::Leaf(rows) = answers.nodes[id as usize] {
                    answers.add(rows, pattern, 1, phi);
                }
                continue;
            };
            let hot = node.next(row[node.feature as usize], children);
            if let NodeAnswers::Pair(rows) = answers.nodes[id as usize] {
                answers.add(rows, pattern << 1 | usize::from(hot == children.1), 2, phi);
                continue;
            }
            let cold = if hot == children.0 { children.1 } else { children.0 };
            walk.push((cold, pattern, level + 1));
            walk.push((hot, pattern | 1 << level, level + 1));
        }
    }
}

/// XGBoost's path buffer for trees up to `depth` splits deep: one path per level, each one
/// longer than its parent's.
fn path_buffer(depth: usize) -> Vec<PathElement> {
    let longest = depth + 2;
    vec![PathElement::default(); longest * (longest + 1) / 2 + longest]
}

/// A feature split on before is taken off the path, to be put back with the split at hand:
/// the fractions it had (1 and 1 when it is new) and the path's depth after.
fn take_off(path: &mut [PathElement], depth: usize, feature: u32) -> (f32, f32, usize) {
    match (0..=depth).find(|&k| path[k].feature == Some(feature)) {
        Some(k) => {
            let PathElement { zero, one, .. } = path[k];
            unwind(path, depth, k);
            (zero, one, depth - 1)
        }
        None => (1.0, 1.0, depth),
    }
}

/// XGBoost's `ExtendPath`.
fn extend(path: &mut [PathElement], depth: usize, zero: f32, one: f32, feature: Option<u32>) {
    path[depth] = PathElement {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d = (depth + 1) as f32;
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f32 / d;
        path[i].weight = zero * path[i].weight * (depth - i) as f32 / d;
    }
}

/// XGBoost's `UnwindPath`: takes element `index` off the path.
fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let PathElement { zero, one, .. } = path[index];
    let d = (depth + 1) as f32;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        if one == 0.0 {
            path[i].weight = (path[i].weight * d) / (zero * (depth - i) as f32);
        } else {
            let tmp = path[i].weight;
            path[i].weight = next_one * d / ((i + 1) as f32 * one);
            next_one = tmp - path[i].weight * zero * (depth - i) as f32 / d;
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// XGBoost's `UnwoundPathSum`: the path's total weight with element `index` taken off.
fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f32 {
    let PathElement { zero, one, .. } = path[index];
    let d = (depth + 1) as f32;
    let mut next_one = path[depth].weight;
    let mut total = 0.0_f32;
    for i in (0..depth).rev() {
        if one == 0.0 {
            if zero != 0.0 {
                total += (path[i].weight / zero) / ((depth - i) as f32 / d);
            }
        } else {
            let tmp = next_one * d / ((i + 1) as f32 * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * ((depth - i) as f32 / d);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::boost::{BoostParams, Objective, train};

    /// Rows of five features, some missing, and a target mixing them with interactions.
    fn data() -> (Matrix, Vec<f32>) {
        let rows = 400;
        let mut x = Vec::with_capacity(rows * 5);
        let mut y = Vec::with_capacity(rows);
        for r in 0..rows {
            let f: Vec<f32> = (0..5).map(|c| ((r * (7 + 2 * c) + c * 3) % (11 + c)) as f32).collect();
            let missing = |c: usize| (r + c).is_multiple_of(6 + c);
            x.extend((0..5).map(|c| if missing(c) { f32::NAN } else { f[c] }));
            y.push(f[0] * 2.0 + if f[1] > 4.0 { f[2] } else { -f[3] } + ((r * 13) % 5) as f32);
        }
        (Matrix::new(x, 5), y)
    }

    fn params() -> BoostParams {
        BoostParams {
            max_depth: 5,
            eta: 0.2,
            rounds: 40,
            min_child_weight: 1.0,
            subsample: 0.8,
            colsample_bytree: 0.8,
            lambda: 1.0,
        }
    }

    #[test]
    fn predictions_are_xgboosts_for_mean_and_quantile_models() {
        let (x, y) = data();
        for objective in [Objective::Mean, Objective::Quantiles(vec![0.1, 0.5, 0.9])] {
            let model = train(&x, &y, &params(), &objective, 3).expect("trains");
            let forest = Forest::from_json(&model.to_json().expect("saves")).expect("reads");
            assert_eq!(
                forest.predict(&x).expect("predicts"),
                model.predict(&x).expect("predicts"),
                "{objective:?}"
            );
        }
    }

    #[test]
    fn contributions_are_xgboosts_from_answers_worked_out_ahead_from_paths_walked_per_row_and_from_both() {
        let (x, y) = data();
        for max_depth in [5, 9] {
            let params = BoostParams { max_depth, ..params() };
            let model = train(&x, &y, &params, &Objective::Mean, 3).expect("trains");
            let walked = Forest::from_json(&model.to_json().expect("saves")).expect("reads");
            let trees = walked.trees.len();
            assert!(walked.trees.iter().all(|tree| tree.answers.is_none()), "depth {max_depth}");
            let mut answered = walked.clone();
            answered.answer_ahead();
            assert!(answered.trees.iter().all(|tree| tree.answers.is_some()), "depth {max_depth}");
            // Room for the first half of the trees' answers: the others walk their paths.
            let mut mixed = walked.clone();
            let room = mixed.trees[..trees / 2]
                .iter()
                .filter_map(|tree| tree.answers_size(usize::MAX))
                .sum();
            answer_ahead(&mut mixed.trees, room);
            let ahead = mixed.trees.iter().filter(|tree| tree.answers.is_some()).count();
            assert!(ahead >= trees / 2 && ahead < trees, "{ahead} of {trees} trees answered ahead");
            let theirs = model.contributions(&x).expect("explains");
            // The same operations in the same order: the same bits.
            // 400 rows are explained on all cores, 10 on the caller's thread.
            let few = Matrix::new(x.data[..10 * x.cols].to_vec(), x.cols);
            for (forest, way) in [(&answered, "answers"), (&walked, "paths"), (&mixed, "both")] {
                assert_eq!(forest.contributions(&x).expect("explains"), theirs, "depth {max_depth}, {way}");
                let first = &theirs[..10 * (x.cols + 1)];
                assert_eq!(
                    forest.contributions(&few).expect("explains"),
                    first,
                    "depth {max_depth}, {way}, few rows"
                );
            }
            let spread = theirs.iter().filter(|v| v.abs() > 0.1).count();
            assert!(spread > x.rows * 3, "only {spread} contributions above 0.1");
            // Splits with two leaves below read both from one place.
            let pairs = answered
                .trees
                .iter()
                .filter_map(|tree| tree.answers.as_ref())
                .flat_map(|answers| &answers.nodes)
                .filter(|node| matches!(node, NodeAnswers::Pair(_)))
                .count();
            assert!(pairs > trees, "{pairs} pairs of leaves");
        }
    }

    #[test]
    fn a_model_other_than_identity_regression_trees_is_refused() {
        let (x, y) = data();
        let model = train(&x, &y, &params(), &Objective::Mean, 3).expect("trains");
        let json = String::from_utf8(model.to_json().expect("saves")).expect("text");
        let logistic = json.replace("reg:squarederror", "binary:logistic");
        assert!(Forest::from_json(logistic.as_bytes()).is_err());
        let narrow = Matrix::new(vec![1.0; 8], 4);
        let forest = Forest::from_json(json.as_bytes()).expect("reads");
        assert!(forest.predict(&narrow).is_err(), "four columns for five features");
        assert!(Forest::from_json(json.replace("\"left_children\":[1,", "\"left_children\":[0,").as_bytes()).is_err());
    }
}
