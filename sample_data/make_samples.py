"""Regenerate the sample files from data sets that scikit-learn ships (no download).

Every prediction is out-of-sample: a simple model is fitted on one half of the data
and predicts the other half, so the losses look like those of a real evaluation.

    pip install ".[samples]" && python sample_data/make_samples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).parent
SEED = 0


def save(frame: pd.DataFrame, name: str) -> None:
    frame.to_csv(HERE / f"{name}.csv", index=False)
    frame.to_parquet(HERE / f"{name}.parquet", index=False)


def regression() -> None:
    """Diabetes progression one year on, predicted by ordinary least squares."""
    data = datasets.load_diabetes(as_frame=True)
    x, y = data.data, data.target
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=SEED)
    pred = LinearRegression().fit(x_train, y_train).predict(x_test)
    # the scaled 'sex' feature takes two values; name them for --group-by
    sex = np.where(x_test["sex"].to_numpy() > 0, "b", "a")
    save(pd.DataFrame({"id": x_test.index, "sex": sex, "pred": pred, "target": y_test.to_numpy()}), "regression")


def binary() -> None:
    """Breast-cancer malignancy (target 1 = malignant) from a logistic regression: logits and probabilities."""
    data = datasets.load_breast_cancer(as_frame=True)
    x, y = data.data, 1 - data.target  # sklearn codes benign as 1; malignant is the positive class here
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=SEED, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=1000)).fit(x_train, y_train)
    logit = model.decision_function(x_test)
    size = np.where(x_test["mean radius"] > x["mean radius"].median(), "large", "small")
    save(pd.DataFrame({"id": x_test.index, "size": size, "logit": logit, "prob": 1 / (1 + np.exp(-logit)),
                       "target": y_test.to_numpy()}), "binary")


def iris_split():
    data = datasets.load_iris(as_frame=True)
    return data, train_test_split(data.data, data.target, test_size=0.5, random_state=SEED, stratify=data.target)


def multiclass() -> None:
    """Iris species from a multinomial logistic regression: three logit columns and a class column."""
    data, (x_train, x_test, y_train, y_test) = iris_split()
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(x_train, y_train)
    logits = model.decision_function(x_test)
    frame = pd.DataFrame({"id": x_test.index, "species": data.target_names[y_test.to_numpy()]})
    for k in range(logits.shape[1]):
        frame[f"logit_{k}"] = logits[:, k]
    frame["target"] = y_test.to_numpy()
    save(frame, "multiclass")


def multilabel() -> None:
    """Iris with four non-exclusive labels (three one-vs-rest species labels and 'long sepal'), one logistic regression each."""
    data, (x_train, x_test, y_train, y_test) = iris_split()
    long_sepal = lambda x: (x["sepal length (cm)"] > data.data["sepal length (cm)"].median()).astype(int)  # noqa: E731
    labels_train = [(y_train == k).astype(int) for k in range(3)] + [long_sepal(x_train)]
    labels_test = [(y_test == k).astype(int) for k in range(3)] + [long_sepal(x_test)]
    # the long-sepal label is predicted without the feature that defines it
    features = [list(x_train.columns)] * 3 + [[c for c in x_train.columns if c != "sepal length (cm)"]]
    frame = pd.DataFrame({"id": x_test.index})
    for k, (lab_train, lab_test, cols) in enumerate(zip(labels_train, labels_test, features)):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(x_train[cols], lab_train)
        frame[f"logit_{k}"] = model.decision_function(x_test[cols])
    for k, lab in enumerate(labels_test):
        frame[f"target_{k}"] = lab.to_numpy()
    save(frame, "multilabel")


def soft_labels() -> None:
    """Iris class probabilities of a logistic regression (student) against a 10-nearest-neighbour teacher's soft labels."""
    _, (x_train, x_test, y_train, y_test) = iris_split()
    student = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000)).fit(x_train, y_train)
    teacher = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=10)).fit(x_train, y_train)
    prob, soft = student.predict_proba(x_test), teacher.predict_proba(x_test)
    frame = pd.DataFrame({"id": x_test.index})
    for k in range(3):
        frame[f"prob_{k}"] = prob[:, k]
    for k in range(3):
        frame[f"target_{k}"] = soft[:, k]
    save(frame, "soft_labels")


if __name__ == "__main__":
    regression()
    binary()
    multiclass()
    multilabel()
    soft_labels()
